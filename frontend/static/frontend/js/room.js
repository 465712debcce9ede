// The engagement room: the timeline of the room's events, the composer, and the action
// bar that offers exactly what the user's role and the engagement's state allow.

import {
  announce, api, el, formatMoney, formatSize, formatTime, linkify, me, stateLabel, t, tf,
  timeLeft,
} from "./core.js";
import { live } from "./live.js";
import { desktopNotify, refreshUnread } from "./notify.js";
import { callCard, openScheduler, updateCall } from "./calls.js";
import { fileCard, setupUploads, updateFile } from "./files.js";

const roomId = Number(document.getElementById("room").dataset.room);
const timeline = document.getElementById("timeline");
const actions = document.getElementById("actions");
const input = document.getElementById("composer-input");

const state = {
  engagement: null,
  messages: new Map(), // message id → <li>
  lastSeq: 0,
  otherRead: 0,
  joined: false,
};
const isClient = () => state.engagement?.client.id === me.id;
const other = () => (isClient() ? state.engagement.advisor : state.engagement.client);
const nameOf = (userId) => {
  if (!state.engagement || userId === null) return t("System");
  if (userId === me.id) return t("You");
  return [state.engagement.client, state.engagement.advisor].find((u) => u.id === userId)?.display_name || "";
};

// --- timeline ------------------------------------------------------------------------------

function stamp(event) {
  return el("time", { datetime: event.at, class: "muted" }, formatTime(event.at, { timeStyle: "short", dateStyle: "short" }));
}

function messageItem(event) {
  const own = event.actor === me.id;
  const body = el("div", { class: "bubble-body" });
  const item = el("li", { class: `msg${own ? " own" : ""}`, dataset: { seq: event.seq, message: event.data.message_id } },
    el("div", { class: "meta" }, el("strong", {}, nameOf(event.actor)), " ", stamp(event),
      el("span", { class: "edited muted", hidden: true }, ` · ${t("edited")}`)),
    body,
    own ? el("div", { class: "msg-tools" },
      el("button", { type: "button", class: "btn-link", onclick: () => editMessage(event.data.message_id) }, t("Edit")),
      el("button", { type: "button", class: "btn-link", onclick: () => deleteMessage(event.data.message_id) }, t("Delete"))) : null,
    own ? el("span", { class: "seen muted", hidden: true }, t("Seen")) : null);
  setBody(item, event.data);
  state.messages.set(event.data.message_id, item);
  return item;
}

function setBody(item, data) {
  const body = item.querySelector(".bubble-body");
  if (data.deleted) {
    body.replaceChildren(el("em", { class: "muted" }, t("Message deleted")));
    item.classList.add("deleted");
    item.querySelector(".msg-tools")?.remove();
  } else {
    body.replaceChildren(linkify(data.body || ""));
  }
}

function proposalCard(event, revised) {
  const p = event.data;
  const current = state.engagement?.proposal?.version === p.version;
  const canHire = isClient() && state.engagement?.state === "proposed" && current;
  return el("li", { class: "card event-card proposal", dataset: { seq: event.seq, version: p.version } },
    el("h3", {}, revised ? tf("Proposal revised — version %(v)s", { v: p.version }) : tf("Proposal — version %(v)s", { v: p.version })),
    el("dl", { class: "facts" },
      el("dt", {}, t("Fee")), el("dd", {}, formatMoney(p.fee_amount, p.fee_currency)),
      el("dt", {}, t("Duration")), el("dd", {}, `${p.estimated_days} ${t("days")}`),
      el("dt", {}, t("Revisions included")), el("dd", {}, p.included_revisions)),
    el("p", { class: "prewrap" }, p.statement),
    canHire ? el("button", { class: "btn", type: "button", dataset: { hire: p.version }, onclick: () => hire(p.version) }, tf("Hire on version %(v)s", { v: p.version })) : null,
    stamp(event));
}

const STATE_TEXT = {
  "proposal.withdrawn": () => t("The advisor withdrew the proposal."),
  "proposal.declined": (e) => (e.data.automatic
    ? (e.data.reason === "request_cancelled" ? t("The request was cancelled; the proposal was declined.") : t("Another advisor was hired; the proposal was declined."))
    : t("The client declined the proposal.")),
  "engagement.hired": (e) => tf("Hired on version %(v)s. Work has started.", { v: e.data.version }),
  "engagement.delivered": () => t("The advisor delivered the work."),
  "engagement.revision_requested": (e) => tf("The client asked for a revision (%(used)s of %(included)s).", { used: e.data.revisions_used, included: e.data.included_revisions }),
  "engagement.approved": (e) => (e.data.automatic ? t("The delivery was approved automatically.") : t("The client approved the delivery.")),
  "engagement.rejected": () => t("The client rejected the delivery. Our staff will settle the dispute."),
  "engagement.resolved": (e) => (e.data.outcome === "completed" ? t("Dispute settled: completed.") : t("Dispute settled: cancelled.")),
  "review.posted": (e) => (e.data.revealed ? t("Both reviews are in and now visible.") : tf("%(who)s left a review.", { who: nameOf(e.actor) })),
};

function stateCard(event) {
  const note = event.data.note || event.data.reason;
  const files = event.kind === "engagement.delivered" ? (event.data.files || []) : [];
  return el("li", { class: `card event-card state-card kind-${event.kind.replace(".", "-")}`, dataset: { seq: event.seq } },
    el("p", {}, el("strong", {}, STATE_TEXT[event.kind](event))),
    note ? el("p", { class: "prewrap" }, note) : null,
    files.length ? el("ul", { class: "delivered-files" }, files.map((f) => el("li", {},
      typeof f === "object" ? el("a", { href: `/api/files/${f.id}/download/` }, f.name) : `#${f}`))) : null,
    stamp(event));
}

function render(event) {
  switch (event.kind) {
    case "message.created": return messageItem(event);
    case "message.edited": {
      const item = state.messages.get(event.data.message_id);
      if (item) {
        setBody(item, event.data);
        item.querySelector(".edited").hidden = false;
      }
      return null;
    }
    case "message.deleted": {
      const item = state.messages.get(event.data.message_id);
      if (item) setBody(item, { deleted: true });
      return null;
    }
    case "proposal.submitted": return proposalCard(event, false);
    case "proposal.revised": return proposalCard(event, true);
    case "file.shared": return fileCard(event);
    case "file.removed": updateFile(event); return null;
    case "call.proposed": return callCard(event, state);
    case "call.confirmed": case "call.declined": case "call.cancelled": updateCall(event, state); return null;
    default:
      return STATE_TEXT[event.kind] ? stateCard(event) : null;
  }
}

function onEvent(frame) {
  if (frame.room !== roomId) return;
  const pending = frame.kind === "message.created" && frame.actor === me.id
    ? timeline.querySelector(`[data-client-id="${CSS.escape(frame.data.client_id)}"]`) : null;
  const node = render(frame);
  if (node) {
    if (pending) pending.replaceWith(node);
    else timeline.insertBefore(node, timeline.querySelector(".pending"));
  } else pending?.remove();
  state.lastSeq = Math.max(state.lastSeq, frame.seq);
  if (state.joined) {
    if (frame.actor !== me.id && frame.actor !== null || frame.kind.startsWith("engagement.")) {
      if (frame.kind === "message.created") announce(`${nameOf(frame.actor)}: ${frame.data.body}`);
      else if (node) announce(node.textContent.slice(0, 200));
      if (document.hidden && frame.actor !== me.id) {
        desktopNotify({
          title: frame.kind === "message.created" ? nameOf(frame.actor) : state.engagement.project.title,
          body: frame.kind === "message.created" ? frame.data.body : (node?.textContent || "").slice(0, 140),
          url: location.pathname,
          tag: `room-${roomId}`,
        });
      }
    }
    if (/^(proposal|engagement|review)\./.test(frame.kind)) reloadEngagement();
    node?.scrollIntoView({ block: "end" });
    markRead();
  }
  updateSeen();
}

// --- read receipts ----------------------------------------------------------------------------

let readTimer;
function markRead() {
  if (document.hidden) return;
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    if (state.lastSeq > (state.engagement?.read_markers?.[me.id] || 0)) {
      live.send({ type: "read", room: roomId, seq: state.lastSeq });
      if (state.engagement) state.engagement.read_markers[me.id] = state.lastSeq;
      refreshUnread();
    }
  }, 400);
}

function updateSeen() {
  let lastSeen = null;
  for (const item of timeline.querySelectorAll(".msg.own")) {
    item.querySelector(".seen")?.setAttribute("hidden", "");
    if (Number(item.dataset.seq) <= state.otherRead) lastSeen = item;
  }
  lastSeen?.querySelector(".seen")?.removeAttribute("hidden");
}

// --- composer ---------------------------------------------------------------------------------

function showPending(item) {
  timeline.append(el("li", { class: "msg own pending", dataset: { clientId: item.client_id } },
    el("div", { class: "meta" }, el("strong", {}, t("You")), " ", el("span", { class: "muted" }, t("sending…"))),
    el("div", { class: "bubble-body" }, linkify(item.body))));
  timeline.lastElementChild.scrollIntoView({ block: "end" });
}

function send() {
  const body = input.value.trim();
  if (!body) return;
  input.value = "";
  showPending(live.sendMessage(roomId, body));
}

let typingSent = 0;
function setupComposer() {
  const form = document.getElementById("composer");
  form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  input.addEventListener("input", () => {
    if (Date.now() - typingSent > 2000) {
      typingSent = Date.now();
      live.send({ type: "typing", room: roomId });
    }
  });
  for (const item of live.pending(roomId)) showPending(item);
  input.disabled = false; // enabled only once Enter is ours to handle
}

async function editMessage(messageId) {
  const item = state.messages.get(messageId);
  const current = item.querySelector(".bubble-body").textContent;
  const body = await ask(t("Edit message"), [el("textarea", { name: "body", rows: 4, required: true }, current)]);
  if (body?.body) live.send({ type: "edit", message: messageId, body: body.body });
}

async function deleteMessage(messageId) {
  if (await ask(t("Delete this message?"), [el("p", {}, t("It will be replaced by a note that it was deleted."))])) {
    live.send({ type: "delete", message: messageId });
  }
}

// --- dialogs ------------------------------------------------------------------------------------

const dialog = document.getElementById("dialog");

// A modal form; resolves with its values, or null when cancelled. `submit` may throw an
// ApiError, shown in the dialog, which then stays open.
export function ask(title, fields, submit) {
  document.getElementById("dialog-title").textContent = title;
  document.getElementById("dialog-body").replaceChildren(...fields);
  const error = document.getElementById("dialog-error");
  error.hidden = true;
  dialog.showModal();
  dialog.querySelector("input, textarea, select")?.focus();
  return new Promise((resolve) => {
    const form = document.getElementById("dialog-form");
    const onSubmit = async (event) => {
      if (event.submitter?.value === "cancel") return;
      event.preventDefault();
      if (!form.reportValidity()) return;
      const values = Object.fromEntries(new FormData(form).entries());
      try {
        if (submit) await submit(values);
        cleanup();
        dialog.close();
        resolve(values);
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
      }
    };
    const onClose = () => { cleanup(); resolve(null); };
    const cleanup = () => {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
    };
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
  });
}

// --- actions --------------------------------------------------------------------------------------

const post = (action, body) => api(`/api/engagements/${roomId}/${action}/`, { method: "POST", body });

async function hire(version) {
  await ask(tf("Hire on version %(v)s?", { v: version }), [el("p", {}, t("Every other proposal on this request will be declined."))],
    () => post("hire", { version }));
}

function button(label, onclick, kind = "") {
  return el("button", { type: "button", class: `btn ${kind}`, onclick }, label);
}

function renderActions() {
  const e = state.engagement;
  const buttons = [];
  if (isClient()) {
    if (e.state === "proposed") {
      buttons.push(button(tf("Hire on version %(v)s", { v: e.proposal.version }), () => hire(e.proposal.version)));
      buttons.push(button(t("Decline"), () => ask(t("Decline this proposal?"), [
        el("label", {}, t("Reason (optional)"), el("textarea", { name: "reason", rows: 2 }))],
      (v) => post("decline", v)), "btn-secondary"));
    }
    if (e.state === "delivered") {
      buttons.push(button(t("Approve"), () => ask(t("Approve the delivery?"), [], () => post("approve"))));
      if (e.revisions_used < e.included_revisions) {
        buttons.push(button(tf("Request a revision (%(left)s left)", { left: e.included_revisions - e.revisions_used }),
          () => ask(t("Request a revision"), [el("label", {}, t("What should change?"), el("textarea", { name: "note", rows: 4, required: true }))],
            (v) => post("request-revision", v)), "btn-secondary"));
      }
      buttons.push(button(t("Reject"), () => ask(t("Reject the delivery?"), [
        el("p", {}, t("This opens a dispute that our staff will settle.")),
        el("label", {}, t("Reason"), el("textarea", { name: "reason", rows: 3, required: true }))],
      (v) => post("reject", v)), "btn-danger"));
    }
  } else {
    if (e.state === "proposed") {
      buttons.push(button(t("Revise proposal"), reviseProposal, "btn-secondary"));
      buttons.push(button(t("Withdraw"), () => ask(t("Withdraw your proposal?"), [], () => post("withdraw")), "btn-danger"));
    }
    if (e.state === "active") buttons.push(button(t("Deliver"), deliver));
  }
  if (e.state === "completed" && !e.reviews.some((r) => r.author.id === me.id)) {
    buttons.push(button(t("Leave a review"), review));
  }
  actions.replaceChildren(...buttons);
  // Hire buttons on proposal cards only while that version can still be hired.
  timeline.querySelectorAll("[data-hire]").forEach((b) => {
    b.hidden = !(isClient() && e.state === "proposed" && Number(b.dataset.hire) === e.proposal.version);
  });
  const badge = document.getElementById("state-badge");
  badge.textContent = stateLabel(e.state);
  badge.className = `badge state-${e.state}`;
  const countdown = document.getElementById("countdown");
  countdown.hidden = !(e.state === "delivered" && e.review_deadline);
  const closed = ["declined", "withdrawn", "cancelled"].includes(e.state);
  document.getElementById("composer").hidden = closed;
}

function reviseProposal() {
  const p = state.engagement.proposal;
  ask(t("Revise proposal"), [
    el("label", {}, t("Fee"), el("input", { name: "fee_amount", type: "number", step: "0.01", min: "0.01", value: p.fee_amount, required: true })),
    el("label", {}, t("Currency"), el("input", { name: "fee_currency", value: p.fee_currency, maxlength: 3, required: true })),
    el("label", {}, t("Estimated days"), el("input", { name: "estimated_days", type: "number", min: 1, value: p.estimated_days, required: true })),
    el("label", {}, t("Revisions included"), el("input", { name: "included_revisions", type: "number", min: 0, max: 20, value: p.included_revisions, required: true })),
    el("label", {}, t("Opening statement of strategy"), el("textarea", { name: "statement", rows: 5, required: true }, p.statement)),
  ], (v) => api(`/api/engagements/${roomId}/proposal/`, { method: "PATCH", body: v }));
}

async function deliver() {
  let files = [];
  try {
    files = (await api(`/api/engagements/${roomId}/files/`)).filter((f) => !f.removed);
  } catch { /* no files app yet, or none shared */ }
  const choices = files.length
    ? el("fieldset", {}, el("legend", {}, t("Deliverables (files shared in this room)")),
      files.map((f) => el("label", { class: "radio" }, el("input", { type: "checkbox", name: `file-${f.id}`, value: f.id }), ` ${f.name}`)))
    : el("p", { class: "muted" }, t("Tip: share the deliverable files in the room first, then select them here."));
  await ask(t("Deliver the work"), [
    el("label", {}, t("Delivery note"), el("textarea", { name: "note", rows: 4, required: true })), choices],
  (v) => post("deliver", {
    note: v.note,
    files: Object.entries(v).filter(([k]) => k.startsWith("file-")).map(([, id]) => Number(id)),
  }));
}

function review() {
  const stars = el("fieldset", { class: "stars" }, el("legend", {}, t("Rating")),
    [5, 4, 3, 2, 1].map((n) => el("label", { class: "radio" },
      el("input", { type: "radio", name: "rating", value: n, required: true, checked: n === 5 }), ` ${"★".repeat(n)} (${n})`)));
  ask(isClient() ? t("Rate the advisor's work") : t("Rate working with this client"), [
    stars, el("label", {}, t("Comment"), el("textarea", { name: "comment", rows: 3 })),
  ], (v) => post("review", { rating: Number(v.rating), comment: v.comment || "" }));
}

async function reloadEngagement() {
  state.engagement = await api(`/api/engagements/${roomId}/`);
  state.otherRead = Math.max(state.otherRead, state.engagement.read_markers[other().id] || 0);
  renderActions();
  updateSeen();
}

// --- live ---------------------------------------------------------------------------------------

let typingTimer;
function setupLive() {
  live.on("event", onEvent);
  live.on("joined", (frame) => {
    if (frame.room !== roomId) return;
    state.joined = true;
    timeline.setAttribute("aria-busy", "false");
    timeline.lastElementChild?.scrollIntoView({ block: "end" });
    markRead();
  });
  live.on("typing", (frame) => {
    if (frame.room !== roomId) return;
    const box = document.getElementById("typing");
    box.textContent = tf("%(name)s is typing…", { name: nameOf(frame.user) });
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { box.textContent = ""; }, 4000);
  });
  live.on("read", (frame) => {
    if (frame.room === roomId && frame.user !== me.id) {
      state.otherRead = Math.max(state.otherRead, frame.seq);
      updateSeen();
    }
  });
  live.on("presence", (frame) => {
    if (!state.engagement || frame.user !== other().id) return;
    setPresence(frame.online);
  });
  live.on("pong", (frame) => {
    if (state.engagement) setPresence(frame.online.includes(other().id));
  });
  live.on("error", (frame) => {
    if (frame.room === roomId || frame.client_id) announce(frame.detail);
    if (frame.client_id) timeline.querySelector(`[data-client-id="${CSS.escape(frame.client_id)}"] .muted`)?.replaceChildren(frame.detail);
  });
  document.addEventListener("visibilitychange", markRead);
  live.join(roomId, 0);
}

function setPresence(online) {
  const box = document.getElementById("presence");
  box.classList.toggle("online", online);
  document.getElementById("presence-text").textContent = online ? t("online") : t("offline");
}

export async function start() {
  timeline.setAttribute("aria-busy", "true");
  await reloadEngagement();
  setupComposer();
  setupUploads({ roomId, timeline });
  document.getElementById("schedule-call").addEventListener("click", () => openScheduler({ roomId, ask }));
  setupLive();
  setInterval(() => {
    const e = state.engagement;
    if (e?.state === "delivered" && e.review_deadline) {
      document.getElementById("countdown").textContent = tf("Automatic approval in %(left)s", { left: timeLeft(e.review_deadline) });
    }
  }, 1000);
}

export { formatSize };
