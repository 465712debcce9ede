// Documents in the room: cards in the timeline, upload by button or drag-and-drop with a
// progress bar (XMLHttpRequest: fetch cannot report upload progress).

import { announce, el, formatSize, formatTime, t, tf } from "./core.js";

// A coloured label with the file's kind: no icon font or emoji needed.
const KINDS = [
  [/pdf/, "PDF", "pdf"], [/^image\//, "IMG", "img"], [/zip|tar|gzip|7z|rar/, "ZIP", "zip"],
  [/sheet|excel|csv/, "XLS", "sheet"], [/presentation|powerpoint/, "PPT", "slides"],
  [/word|document/, "DOC", "doc"], [/text/, "TXT", "doc"],
];
const kindOf = (type) => KINDS.find(([re]) => re.test(type || "")) || [null, "FILE", "other"];
const cards = new Map(); // file id → card

const fileOf = (event) => event.data.file || event.data;

export function fileCard(event) {
  const file = fileOf(event);
  const card = el("li", { class: "card event-card file-card", dataset: { seq: event.seq, file: file.id } },
    el("span", { class: `file-icon kind-${kindOf(file.content_type)[2]}`, "aria-hidden": "true" }, kindOf(file.content_type)[1]),
    el("a", { href: `/api/files/${file.id}/download/`, class: "file-name" }, file.name),
    " ", el("span", { class: "muted" }, formatSize(file.size || 0)),
    file.version > 1 ? el("span", { class: "muted" }, ` · ${tf("version %(v)s", { v: file.version })}`) : null,
    el("div", { class: "muted" }, formatTime(event.at, { timeStyle: "short", dateStyle: "short" })));
  cards.set(file.id, card);
  return card;
}

export function updateFile(event) {
  const file = fileOf(event);
  const card = cards.get(file.id);
  if (!card) return;
  card.classList.add("removed");
  const link = card.querySelector("a.file-name");
  link?.replaceWith(el("s", {}, link.textContent));
  card.append(el("div", { class: "muted" }, t("Removed")));
}

function upload(roomId, file, box) {
  const row = el("div", {}, el("span", {}, file.name, " "), el("progress", { max: 100, value: 0, "aria-label": tf("Uploading %(name)s", { name: file.name }) }));
  box.append(row);
  const form = new FormData();
  form.append("file", file);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", `/api/engagements/${roomId}/files/`);
  xhr.setRequestHeader("X-CSRFToken", (document.cookie.match(/(?:^|; )csrftoken=([^;]*)/) || [])[1] || "");
  xhr.upload.onprogress = (event) => {
    if (event.lengthComputable) row.querySelector("progress").value = (100 * event.loaded) / event.total;
  };
  xhr.onload = () => {
    if (xhr.status >= 200 && xhr.status < 300) {
      row.remove();
      announce(tf("%(name)s shared", { name: file.name }));
    } else {
      let detail = `HTTP ${xhr.status}`;
      try { detail = JSON.parse(xhr.responseText).detail || detail; } catch { /* not JSON */ }
      row.replaceChildren(el("p", { class: "error", role: "alert" }, `${file.name}: ${detail}`));
      setTimeout(() => row.remove(), 8000);
    }
  };
  xhr.onerror = () => row.replaceChildren(el("p", { class: "error", role: "alert" }, `${file.name}: ${t("upload failed")}`));
  xhr.send(form);
}

export function setupUploads({ roomId }) {
  const box = document.getElementById("uploads");
  const input = document.getElementById("file-input");
  const zone = document.getElementById("dropzone");
  input.addEventListener("change", () => {
    for (const file of input.files) upload(roomId, file, box);
    input.value = "";
  });
  const room = document.getElementById("room");
  let depth = 0;
  room.addEventListener("dragenter", (event) => {
    if (!event.dataTransfer?.types.includes("Files")) return;
    depth += 1;
    zone.hidden = false;
  });
  room.addEventListener("dragleave", () => {
    depth -= 1;
    if (depth <= 0) { zone.hidden = true; depth = 0; }
  });
  room.addEventListener("dragover", (event) => event.preventDefault());
  room.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.hidden = true;
    depth = 0;
    for (const file of event.dataTransfer.files) upload(roomId, file, box);
  });
}
