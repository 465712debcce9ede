// Skills only matter for advisors: hide the field for clients.
export function start() {
  const skills = document.querySelector("[data-advisor-only]");
  const radios = document.querySelectorAll('input[name="role"]');
  const sync = () => {
    const role = document.querySelector('input[name="role"]:checked')?.value;
    if (skills) skills.hidden = role !== "advisor";
  };
  radios.forEach((radio) => radio.addEventListener("change", sync));
  sync();
}
