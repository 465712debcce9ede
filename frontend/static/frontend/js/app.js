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
if (modules[page]) modules[page]().then((module) => module.start?.());
