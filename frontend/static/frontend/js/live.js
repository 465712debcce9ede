// One WebSocket per tab, shared by every page module.
//
// It reconnects with exponential backoff, rejoins each open room with `after` = the last
// seq it saw (so nothing is missed and nothing repeats), and keeps an outbox of messages
// written while offline, in localStorage, resent with their original client_id (the
// server answers a resend with the original event, so nothing is duplicated).

import { me } from "./core.js";

const PING_MS = 20000;
const PONG_TIMEOUT_MS = 8000;
const OUTBOX_KEY = `outbox:${me?.id}`;

class Live {
  constructor() {
    this.rooms = new Map(); // room id → last seq received
    this.listeners = new Map();
    this.backoff = 1000;
    this.outbox = JSON.parse(localStorage.getItem(OUTBOX_KEY) || "[]");
    this.connected = false;
    window.addEventListener("offline", () => this.drop());
    window.addEventListener("online", () => this.reconnectNow());
    this.connect();
  }

  on(type, handler) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(handler);
    return () => this.listeners.get(type).delete(handler);
  }

  emit(type, frame) {
    for (const handler of this.listeners.get(type) || []) handler(frame);
    for (const handler of this.listeners.get("*") || []) handler(frame);
  }

  connect() {
    clearTimeout(this.retryTimer);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/`);
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) { ws.onclose = null; ws.close(); return; } // superseded
      this.connected = true;
      this.backoff = 1000;
      this.banner(false);
      for (const [room, seq] of this.rooms) this.raw({ type: "join", room, after: seq });
      this.flushOutbox();
      this.startPing();
      this.emit("open", {});
    };
    ws.onmessage = (message) => { if (this.ws === ws) this.dispatch(JSON.parse(message.data)); };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      if (event.code === 4401 || event.code === 4403) {
        location.href = `/login/?next=${encodeURIComponent(location.pathname)}`;
        return;
      }
      this.lost();
    };
  }

  // Give up on the current socket now: a closing handshake can't complete while the
  // network is down, so waiting for its close event would hide the loss for long.
  drop() {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.onclose = null;
    ws.close();
    this.lost();
  }

  lost() {
    this.connected = false;
    this.stopPing();
    this.banner(true);
    this.emit("close", {});
    clearTimeout(this.retryTimer);
    const delay = this.backoff * (0.75 + Math.random() / 2);
    this.backoff = Math.min(this.backoff * 2, 30000);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    this.backoff = 1000;
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.drop();
    clearTimeout(this.retryTimer);
    this.connect();
  }

  banner(show) {
    const banner = document.getElementById("conn-banner");
    if (banner) banner.hidden = !show;
  }

  startPing() {
    this.stopPing();
    this.pingTimer = setInterval(() => this.ping(), PING_MS);
  }

  stopPing() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }

  ping() {
    this.raw({ type: "ping" });
    clearTimeout(this.pongTimer);
    // A socket that stays silent is dead even if the browser hasn't noticed.
    this.pongTimer = setTimeout(() => this.drop(), PONG_TIMEOUT_MS);
  }

  raw(frame) {
    if (this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  dispatch(frame) {
    if (frame.type === "pong") clearTimeout(this.pongTimer);
    if (frame.type === "event") {
      const last = this.rooms.get(frame.room);
      if (last !== undefined) {
        if (frame.seq <= last) return; // already seen
        this.rooms.set(frame.room, frame.seq);
      }
    }
    if (frame.type === "ack" && frame.client_id) this.dropFromOutbox(frame.client_id);
    if (frame.type === "error" && frame.client_id) this.dropFromOutbox(frame.client_id);
    this.emit(frame.type, frame);
  }

  join(room, after = 0) {
    this.rooms.set(room, after);
    this.raw({ type: "join", room, after });
  }

  send(frame) {
    return this.raw(frame);
  }

  sendMessage(room, body) {
    const item = { room, body, client_id: crypto.randomUUID() };
    this.outbox.push(item);
    this.saveOutbox();
    this.raw({ type: "message", ...item });
    return item;
  }

  pending(room) {
    return this.outbox.filter((item) => item.room === room);
  }

  flushOutbox() {
    for (const item of this.outbox) this.raw({ type: "message", ...item });
  }

  dropFromOutbox(clientId) {
    const before = this.outbox.length;
    this.outbox = this.outbox.filter((item) => item.client_id !== clientId);
    if (this.outbox.length !== before) this.saveOutbox();
  }

  saveOutbox() {
    localStorage.setItem(OUTBOX_KEY, JSON.stringify(this.outbox));
  }
}

export const live = me ? new Live() : null;
