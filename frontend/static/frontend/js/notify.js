// Desktop notifications and the unread count in the tab title.

import { api, me } from "./core.js";

const baseTitle = document.title;

export function setupNotifications() {
  const button = document.getElementById("enable-notifications");
  if (!button || !("Notification" in window) || !me?.notifications_enabled) return;
  // Ask only when the user chooses to: a prompt on page load is easy to refuse forever.
  if (Notification.permission === "default") {
    button.hidden = false;
    button.addEventListener("click", async () => {
      await Notification.requestPermission();
      button.hidden = true;
    });
  }
}

export function desktopNotify({ title, body, url, tag }) {
  if (!me?.notifications_enabled || !("Notification" in window)) return null;
  if (Notification.permission !== "granted") return null;
  const notification = new Notification(title, { body, tag });
  notification.onclick = () => {
    window.focus();
    if (url) location.href = url;
    notification.close?.();
  };
  return notification;
}

let unreadTimer;

export function refreshUnread() {
  clearTimeout(unreadTimer);
  unreadTimer = setTimeout(async () => {
    try {
      const engagements = await api("/api/engagements/");
      setUnread(engagements.reduce((sum, e) => sum + (e.unread || 0), 0));
    } catch {
      /* offline: keep the last count */
    }
  }, 300);
}

export function setUnread(count) {
  document.title = count > 0 ? `(${count}) ${baseTitle}` : baseTitle;
}
