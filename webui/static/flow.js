// The smart-money tape: recent events from /api/flow/smart-money, then live ones over /ws/smart-money.

import { ReconnectingSocket } from "./socket.js";
import { PROFILE_LABEL, PROFILE_SHORT, contractLabel, int, money, row, timeNY } from "./format.js";

const MAX_ROWS = 200;     // the DOM stays small however long the page is open
const BACKFILL = 100;

export class FlowTape {
  constructor({ onState, onClock }) {
    this.table = document.getElementById("flow-tape");
    this.body = this.table.querySelector("tbody");
    this.count = document.getElementById("flow-count");
    this.empty = document.getElementById("flow-empty");
    this.seen = new Set();
    this.seenOrder = [];
    this.total = 0;
    this.onClock = onClock || (() => {});
    this.socket = new ReconnectingSocket("/ws/smart-money", {
      onMessage: (data) => this.onMessage(data),
      onState,
      staleMs: 40000,          // the relay sends a heartbeat after 15 s of silence
    });
  }

  start() {
    this.socket.start();
  }

  async backfill() {
    try {
      const res = await fetch(`/api/flow/smart-money?limit=${BACKFILL}`, { headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const body = await res.json();
      const events = (body.events || []).slice().sort((a, b) => a.ts - b.ts);
      for (const ev of events) this.add(ev, false);
      // Marks the tape as caught up (live from here on); tests and monitors can wait on it.
      this.table.dataset.backfills = String(Number(this.table.dataset.backfills || 0) + 1);
    } catch (_err) {
      // The live socket still delivers; the next reconnect tries again.
    }
  }

  onMessage(data) {
    let ev;
    try { ev = JSON.parse(data); } catch (_err) { return; }
    if (ev && ev.type === "relay_ready") {
      // Live events flow from here on; every (re)connect refetches the newest ones so a gap
      // while the socket was down is filled.
      this.backfill();
      return;
    }
    if (ev && ev.event_id) this.add(ev, true);
  }

  remember(id) {
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > MAX_ROWS * 4) this.seen.delete(this.seenOrder.shift());
  }

  add(ev, live) {
    if (this.seen.has(ev.event_id)) return;
    this.remember(ev.event_id);
    this.total += 1;
    const dir = String(ev.direction || "");
    const tr = row([
      [timeNY(ev.ts), "t"],
      [ev.underlying, "sym"],
      [PROFILE_SHORT[ev.profile_id] || ev.profile_id, `prof prof-${ev.profile_id}`, PROFILE_LABEL[ev.profile_id]],
      [dir === "bullish" ? "BULL" : dir === "bearish" ? "BEAR" : "NEUT", `dir dir-${dir}`],
      [money(ev.premium), "num prem" + (ev.premium >= 1e6 ? " big" : "")],
      [int(ev.contracts), "num"],
      [contractLabel(ev.underlying, ev.expiry, ev.strike, ev.right), "contract col-contract"],
      [ev.reason, "reason", ev.reason],
    ], live ? "ev fresh" : "ev");
    tr.dataset.eventId = ev.event_id;
    tr.dataset.ts = ev.ts;
    // Newest on top; a late backfilled event goes below newer rows.
    let before = this.body.firstChild;
    while (before && Number(before.dataset.ts) > ev.ts) before = before.nextSibling;
    this.body.insertBefore(tr, before);
    while (this.body.childElementCount > MAX_ROWS) this.body.lastChild.remove();
    if (live) setTimeout(() => tr.classList.remove("fresh"), 1500);
    this.count.textContent = String(this.total);
    this.empty.hidden = true;
    this.onClock(ev.ts);
  }
}
