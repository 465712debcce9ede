// A request: its client compares proposals side by side, edits or cancels it;
// an advisor sends a proposal (or opens the room of the one they sent).

import { api, el, formatMoney, formData, me, showFormError, stateLabel, t } from "./core.js";
import { live } from "./live.js";

const projectId = Number(document.getElementById("project").dataset.project);

function proposalCard(engagement) {
  const p = engagement.proposal;
  return el("article", { class: "card proposal", dataset: { engagement: engagement.id } },
    el("h3", {}, engagement.advisor.display_name),
    el("dl", { class: "facts" },
      el("dt", {}, t("Fee")), el("dd", {}, formatMoney(p.fee_amount, p.fee_currency)),
      el("dt", {}, t("Duration")), el("dd", {}, `${p.estimated_days} ${t("days")}`),
      el("dt", {}, t("Revisions included")), el("dd", {}, p.included_revisions),
      el("dt", {}, t("Version")), el("dd", {}, p.version),
      el("dt", {}, t("State")), el("dd", {}, stateLabel(engagement.state))),
    el("p", { class: "prewrap clamp" }, p.statement),
    el("p", {},
      el("a", { class: "btn", href: `/engagements/${engagement.id}/` }, t("Open the room")), " ",
      el("a", { href: `/advisors/${engagement.advisor.id}/` }, t("Profile"))));
}

async function loadProposals() {
  const box = document.getElementById("proposals");
  const engagements = await api(`/api/projects/${projectId}/proposals/`);
  if (box) {
    box.replaceChildren(...engagements.map(proposalCard));
    if (!engagements.length) box.append(el("p", { class: "muted" }, t("No proposals yet. Matching advisors have been alerted.")));
  }
  return engagements;
}

export async function start() {
  const engagements = await loadProposals();
  const proposalForm = document.getElementById("proposal-form");
  if (proposalForm && engagements.length) {
    document.getElementById("proposal-box").replaceChildren(
      el("h2", {}, t("Your proposal")),
      el("p", {}, el("a", { class: "btn", href: `/engagements/${engagements[0].id}/` }, t("Open the room"))));
  }
  proposalForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const engagement = await api(`/api/projects/${projectId}/proposals/`, { method: "POST", body: formData(proposalForm) });
      location.href = `/engagements/${engagement.id}/`;
    } catch (error) {
      showFormError(proposalForm, error);
    }
  });
  const edit = document.getElementById("project-edit");
  edit?.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/api/projects/${projectId}/`, { method: "PATCH", body: formData(edit) });
      location.reload();
    } catch (error) {
      showFormError(edit, error);
    }
  });
  document.getElementById("project-cancel")?.addEventListener("click", async () => {
    if (!confirm(t("Cancel this request? Every pending proposal will be declined."))) return;
    await api(`/api/projects/${projectId}/cancel/`, { method: "POST" });
    location.reload();
  });
  if (me.role === "client") live.on("notify", () => loadProposals());
}
