// Entry point of every page: the shared socket, notifications, then the page's module.

import { me } from "./core.js";
import { live } from "./live.js";
import { desktopNotify, refreshUnread, setupNotifications } from "./notify.js";

document.querySelectorAll("[data-autosubmit]").forEach((select) =>
  select.addEventListener("change", () => select.form.submit()),
);

const page = document.body.dataset.page;

if (me && live) {
  setupNotifications();
  refreshUnread();
  // Activity in rooms that are not open in this tab, and new matching requests.
  live.on("notify", (frame) => {
    desktopNotify({ title: frame.title, body: frame.body, url: frame.url,
                    tag: frame.room ? `room-${frame.room}` : frame.event });
    refreshUnread();
  });
}

const modules = {
  dashboard: () => import("./dashboard.js"),
  board: () => import("./board.js"),
  project: () => import("./project.js"),
  room: () => import("./room.js"),
  signup: () => import("./signup.js"),
};
// Forms marked data-js are submitted by their page module; their buttons stay disabled
// until the module has attached its handlers (an early click would do a plain GET).
const enableForms = () =>
  document.querySelectorAll("form[data-js] [type=submit]").forEach((b) => { b.disabled = false; });
if (modules[page]) modules[page]().then((module) => module.start?.()).finally(enableForms);
else enableForms();
