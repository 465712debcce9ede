// Calls in the room: proposals with candidate slots in the user's own time zone, accept /
// decline for the invitee, the confirmed time with its meeting link and .ics, cancel.

import { api, el, formatTime, me, t, tf, zonedIso } from "./core.js";

const cards = new Map(); // call id → card

// Call events carry the call's id in data.call; a proposal lists its slots, a
// confirmation the chosen slot's start and end (UTC).

function slotText(slot) {
  const start = slot.start;
  const end = slot.end || new Date(new Date(start).getTime() + slot.duration_minutes * 60000).toISOString();
  return `${formatTime(start, { dateStyle: "medium", timeStyle: "short" })} – ${formatTime(end, { timeStyle: "short" })}`;
}

export function callCard(event) {
  const call = event.data;
  const id = call.call;
  const invitee = event.actor !== me.id;
  const slots = call.slots || [];
  const card = el("li", { class: "card event-card call-card", dataset: { seq: event.seq, call: id } },
    el("h3", {}, tf("Call proposed by %(name)s", { name: invitee ? t("the other party") : t("you") })),
    call.note ? el("p", { class: "prewrap" }, call.note) : null,
    el("ul", { class: "slots" }, slots.map((slot, index) => el("li", {},
      slotText(slot), " ",
      invitee ? el("button", { type: "button", class: "btn btn-secondary", onclick: () => act(id, "accept", { slot: slot.index ?? index }) }, t("Accept")) : null))),
    el("div", { class: "call-status muted" }, invitee ? "" : t("Waiting for an answer.")),
    invitee ? el("button", { type: "button", class: "btn-link", onclick: () => act(id, "decline") }, t("Decline")) : null);
  cards.set(id, card);
  return card;
}

async function act(id, action, body) {
  try {
    await api(`/api/calls/${id}/${action}/`, { method: "POST", body });
  } catch (error) {
    alert(error.message);
  }
}

export function updateCall(event) {
  const call = event.data;
  const id = call.call;
  const card = cards.get(id);
  if (!card) return;
  card.querySelectorAll(".slots button, .btn-link").forEach((b) => b.remove());
  const status = card.querySelector(".call-status");
  if (event.kind === "call.confirmed") {
    status.replaceChildren(
      el("strong", {}, t("Confirmed:"), " ", slotText(call)),
      call.meeting_url ? el("div", {}, el("a", { href: call.meeting_url, rel: "noopener noreferrer", target: "_blank" }, t("Join the call"))) : null,
      el("div", {}, el("a", { href: `/api/calls/${id}/ics/` }, t("Add to calendar (.ics)")), " · ",
        el("button", { type: "button", class: "btn-link", onclick: () => act(id, "cancel") }, t("Cancel call"))));
  } else if (event.kind === "call.declined") {
    status.replaceChildren(el("strong", {}, t("Declined.")));
  } else if (event.kind === "call.cancelled") {
    status.replaceChildren(el("strong", {}, call.replaced_by ? t("Replaced by a new proposal.") : t("Cancelled.")));
  }
}

function slotRow() {
  return el("div", { class: "slot-row" },
    el("label", {}, t("Start"), el("input", { type: "datetime-local", name: "start", required: true })),
    el("label", {}, t("Minutes"), el("select", { name: "duration" },
      [15, 30, 45, 60, 90, 120, 180, 240].map((m) => el("option", { value: m, selected: m === 30 }, m)))));
}

export function openScheduler({ roomId, ask }) {
  const slots = el("div", { class: "slots-editor" }, slotRow());
  const add = el("button", { type: "button", class: "btn-link", onclick: () => { if (slots.childElementCount < 5) slots.append(slotRow()); } }, t("Add another time"));
  ask(t("Schedule a call"), [
    el("p", { class: "muted" }, tf("Times are in your time zone (%(zone)s).", { zone: me.timezone })),
    slots, add,
    el("label", {}, t("Note"), el("textarea", { name: "note", rows: 2 })),
  ], async (values) => {
    const rows = [...slots.querySelectorAll(".slot-row")].map((row) => ({
      start: zonedIso(row.querySelector("[name=start]").value),
      duration_minutes: Number(row.querySelector("[name=duration]").value),
    }));
    await api(`/api/engagements/${roomId}/calls/`, { method: "POST", body: { slots: rows, note: values.note || "" } });
  });
}
