// Advisors: open requests, filtered by skill and text, new matches appear live.
// Clients: their own requests and the form to post one.

import { api, el, formatMoney, formatTime, formData, me, showFormError, t } from "./core.js";
import { live } from "./live.js";

const list = document.getElementById("projects");

function item(project, fresh = false) {
  const budget = project.budget_min || project.budget_max
    ? `${formatMoney(project.budget_min || 0, project.currency)} – ${formatMoney(project.budget_max || 0, project.currency)}`
    : t("Budget open");
  return el("li", { class: `card${fresh ? " fresh" : ""}`, dataset: { project: project.id } },
    el("a", { class: "card-title", href: `/projects/${project.id}/` }, project.title),
    el("p", { class: "muted" }, budget, " · ", formatTime(project.created_at),
      " · ", `${project.proposal_count} ${t("proposals")}`),
    el("p", { class: "chips" }, project.skills.map((skill) => el("span", { class: "chip" }, skill))),
    el("p", { class: "clamp" }, project.description));
}

let query = "";
async function load(freshId) {
  const projects = await api(`/api/projects/${query}`);
  list.replaceChildren(...projects.map((p) => item(p, p.id === freshId)));
  if (!projects.length) list.append(el("li", { class: "muted" }, t("Nothing here yet.")));
}

export function start() {
  load();
  const filter = document.getElementById("board-filter");
  filter?.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams(formData(filter));
    query = params.toString() ? `?${params}` : "";
    load();
  });
  const form = document.getElementById("project-form");
  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = formData(form);
    data.skills = (data.skills || "").split(",").map((s) => s.trim()).filter(Boolean);
    try {
      const project = await api("/api/projects/", { method: "POST", body: data });
      location.href = `/projects/${project.id}/`;
    } catch (error) {
      showFormError(form, error);
    }
  });
  if (me.role === "advisor") {
    live.on("notify", (frame) => {
      if (frame.event === "project.posted") load(frame.project);
    });
  }
}
