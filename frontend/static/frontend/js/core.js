// Shared helpers: the signed-in user, translations, the API, DOM building, formatting.
// Text from users is only ever set with textContent (never innerHTML), so a message
// can't become markup; links are made clickable by building <a> elements.

export const me = JSON.parse(document.getElementById("page-user")?.textContent || "null");
export const lang = document.documentElement.lang || "en";
export const t = (text) => (window.gettext ? window.gettext(text) : text);
export const tf = (text, values) =>
  window.interpolate ? window.interpolate(t(text), values, true) : text;

function cookie(name) {
  const match = document.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
  return match ? decodeURIComponent(match[1]) : "";
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.detail || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export async function api(path, { method = "GET", body, form } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = cookie("csrftoken");
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

// Text with its links made clickable, as DOM nodes (never HTML).
export function linkify(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    fragment.append(text.slice(last, match.index));
    fragment.append(el("a", { href: match[0], rel: "noopener noreferrer nofollow", target: "_blank" }, match[0]));
    last = match.index + match[0].length;
  }
  fragment.append(text.slice(last));
  return fragment;
}

const zone = me?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone;

export function formatTime(iso, options = { dateStyle: "medium", timeStyle: "short" }) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang, { ...options, timeZone: zone }).format(new Date(iso));
}

export function formatMoney(amount, currency) {
  try {
    return new Intl.NumberFormat(lang, { style: "currency", currency }).format(Number(amount));
  } catch {
    return `${amount} ${currency}`;
  }
}

export function formatSize(bytes) {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

export function timeLeft(iso) {
  const ms = new Date(iso) - Date.now();
  if (ms <= 0) return t("any moment now");
  const hours = Math.floor(ms / 3600000);
  const minutes = Math.floor((ms % 3600000) / 60000);
  const seconds = Math.floor((ms % 60000) / 1000);
  if (hours >= 24) return tf("%(d)sd %(h)sh", { d: Math.floor(hours / 24), h: hours % 24 });
  if (hours >= 1) return tf("%(h)sh %(m)sm", { h: hours, m: minutes });
  return tf("%(m)sm %(s)ss", { m: minutes, s: seconds });
}

// The UTC offset of the user's zone at a wall-clock time, e.g. "-05:00", so a
// <input type="datetime-local"> is read in the profile's zone, not the browser's.
export function zonedIso(localValue) {
  const [date, time] = localValue.split("T");
  const guess = new Date(`${date}T${time}:00Z`);
  const offsetAt = (instant) => {
    const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
      .formatToParts(instant).find((p) => p.type === "timeZoneName").value;
    const m = part.match(/GMT([+-])(\d{2}):?(\d{2})?/);
    return m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] || 0)) : 0;
  };
  let offset = offsetAt(guess);
  offset = offsetAt(new Date(guess.getTime() - offset * 60000));
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date}T${time}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.append(el("p", {}, message));
  while (region.childElementCount > 5) region.firstElementChild.remove();
}

export function showFormError(form, error) {
  const box = form.querySelector("[data-form-error]");
  if (!box) return;
  const fields = error?.body?.fields;
  box.textContent = fields
    ? Object.entries(fields).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`).join(" · ")
    : error?.message || String(error);
  box.hidden = false;
}

export function formData(form) {
  const data = {};
  for (const [key, value] of new FormData(form).entries()) {
    if (value === "") continue;
    data[key] = value;
  }
  return data;
}

// Literal t("…") calls, so makemessages can see each label.
const stateLabels = () => ({
  proposed: t("Proposal pending"),
  active: t("In progress"),
  delivered: t("Delivered, under review"),
  completed: t("Completed"),
  disputed: t("Disputed"),
  declined: t("Declined"),
  withdrawn: t("Withdrawn"),
  cancelled: t("Cancelled"),
});
export const stateLabel = (state) => stateLabels()[state] || state;
