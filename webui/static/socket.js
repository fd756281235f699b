// A websocket that reconnects with capped, jittered backoff and reports its state.

export class ReconnectingSocket {
  constructor(path, { onMessage, onState, onOpen, minDelayMs = 500, maxDelayMs = 8000, staleMs = 0 }) {
    this.path = path;
    this.onMessage = onMessage;
    this.onState = onState || (() => {});
    this.onOpen = onOpen || (() => {});
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.staleMs = staleMs;   // >0: a socket silent this long is treated as lost
    this.delayMs = minDelayMs;
    this.ws = null;
    this.timer = null;
    this.lastMessageAt = 0;
    this.opens = 0;
    if (staleMs > 0) setInterval(() => this.checkStale(), Math.min(staleMs, 5000));
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${this.path}`;
  }

  start() {
    this.onState("connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.delayMs = this.minDelayMs;
      this.lastMessageAt = Date.now();
      this.opens += 1;
      this.onState("live");
      this.onOpen(this.opens);
    });
    ws.addEventListener("message", (ev) => {
      this.lastMessageAt = Date.now();
      this.onMessage(ev.data);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.onState("down");
      const delay = this.delayMs * (0.75 + Math.random() * 0.5);
      this.delayMs = Math.min(this.delayMs * 2, this.maxDelayMs);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.start(), delay);
    });
  }

  checkStale() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && Date.now() - this.lastMessageAt > this.staleMs) {
      this.ws.close();
    }
  }
}
