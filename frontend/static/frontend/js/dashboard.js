// My engagements grouped by state, with unread counts and review countdowns; live.

import { api, el, formatTime, me, stateLabel, t, timeLeft } from "./core.js";
import { live } from "./live.js";
import { setUnread } from "./notify.js";

const ORDER = ["delivered", "active", "proposed", "disputed", "completed", "declined", "withdrawn", "cancelled"];
const root = document.getElementById("dashboard");
let engagements = [];

function card(engagement) {
  const other = engagement.client.id === me.id ? engagement.advisor : engagement.client;
  const countdown = engagement.state === "delivered" && engagement.review_deadline
    ? el("span", { class: "countdown", dataset: { deadline: engagement.review_deadline } },
      timeLeft(engagement.review_deadline))
    : null;
  return el("li", { class: "card engagement-card", dataset: { engagement: engagement.id } },
    el("a", { href: `/engagements/${engagement.id}/`, class: "card-title" }, engagement.project.title),
    engagement.unread
      ? el("span", { class: "unread", "aria-label": `${engagement.unread} ${t("unread")}` }, engagement.unread)
      : null,
    el("p", { class: "muted" },
      other.display_name, " · ", t("last activity"), " ", formatTime(engagement.updated_at)),
    countdown ? el("p", {}, t("Automatic approval in"), " ", countdown) : null,
  );
}

function render() {
  root.replaceChildren();
  root.setAttribute("aria-busy", "false");
  if (!engagements.length) {
    root.append(el("p", { class: "muted" }, me.role === "advisor"
      ? t("No engagements yet. Browse the open requests and send a proposal.")
      : t("No engagements yet. Post a request to receive proposals.")));
    return;
  }
  for (const state of ORDER) {
    const group = engagements.filter((e) => e.state === state);
    if (!group.length) continue;
    root.append(el("section", { class: "state-group", dataset: { state } },
      el("h2", {}, stateLabel(state), " ", el("span", { class: "muted" }, `(${group.length})`)),
      el("ul", { class: "cards" }, group.map(card))));
  }
  setUnread(engagements.reduce((sum, e) => sum + (e.unread || 0), 0));
}

let timer;
async function load() {
  engagements = await api("/api/engagements/");
  render();
}
const reload = () => { clearTimeout(timer); timer = setTimeout(load, 250); };

export function start() {
  load();
  live.on("notify", reload);
  live.on("open", reload); // after a reconnect, catch up
  setInterval(() => {
    document.querySelectorAll("[data-deadline]").forEach((node) => {
      node.textContent = timeLeft(node.dataset.deadline);
    });
  }, 1000);
}
