// The smart-money feed: the recent events from /api/flow/smart-money as soon as the page starts,
// then live ones over /ws/smart-money; filtered, sorted and paused in the browser.

import { ReconnectingSocket } from "./socket.js";
import { describe, openInterest } from "./flow_event.js";
import { COLUMN, DEFAULT_SORT, sortRows } from "./flow_columns.js";
import { FlowFilters, loadSaved, predicate, save } from "./flow_filters.js";
import { FlowTable } from "./flow_table.js";
import { int } from "./format.js";

const MAX_ROWS = 200;        // rows in the DOM, however long the page is open
const MAX_EVENTS = 1500;     // events kept in memory, so a filter or sort reaches past the rows shown
const MAX_PENDING = 1500;    // events held while paused (the counter keeps counting past it)
const SEEN_IDS = 6000;       // ids remembered for de-duplication: well past what one backfill returns
const BACKFILL = 500;        // the gateway's maximum (FLOW_LIMIT_MAX in admin_gateway/params.py)

export class FlowTape {
  constructor({ onState, onClock, onEvents, onTicker }) {
    this.tableEl = document.getElementById("flow-tape");
    this.count = document.getElementById("flow-count");
    this.shown = document.getElementById("flow-shown");
    this.empty = document.getElementById("flow-empty");
    this.pauseBtn = document.getElementById("flow-pause");
    this.newCount = document.getElementById("flow-new");
    this.onClock = onClock || (() => {});
    this.onEvents = onEvents || (() => {});
    this.seen = new Set();
    this.seenOrder = [];
    this.rows = new Map();          // event id -> described event, at most MAX_EVENTS
    this.total = 0;
    this.paused = false;
    this.pending = [];
    this.pendingCount = 0;
    this.fresh = new Set();
    this.frame = 0;
    const saved = loadSaved();
    this.sort = saved.sort && COLUMN[saved.sort.key] ? saved.sort : { ...DEFAULT_SORT };
    this.filters = new FlowFilters({ initial: saved.filters, onChange: (f) => this.filtered(f) });
    this.match = predicate(this.filters.state);
    this.table = new FlowTable({ table: this.tableEl, onSort: (key) => this.sortBy(key), onTicker });
    this.table.showSort(this.sort);
    this.pauseBtn.addEventListener("click", () => (this.paused ? this.resume() : this.pause()));
    this.socket = new ReconnectingSocket("/ws/smart-money", {
      onMessage: (data) => this.onMessage(data),
      onState,
      staleMs: 40000,          // the relay sends a heartbeat after 15 s of silence
    });
  }

  // Instant on: the recent events are fetched at once, not after the socket says it is ready
  // (the backend has the session so far); the socket's own refetch then fills any gap.
  start() {
    this.backfill();
    this.socket.start();
  }

  // Every event this page holds, newest first (the ticker view and aggregates read it).
  all() {
    return [...this.rows.values(), ...this.pending];
  }

  async backfill() {
    try {
      const res = await fetch(`/api/flow/smart-money?limit=${BACKFILL}`, { headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const body = await res.json();
      this.ingest(body.events || [], false);
      // Marks the tape as caught up; tests and monitors can wait on it.
      this.tableEl.dataset.backfills = String(Number(this.tableEl.dataset.backfills || 0) + 1);
    } catch (_err) {
      // The live socket still delivers; the next reconnect tries again.
    }
  }

  onMessage(data) {
    let ev;
    try { ev = JSON.parse(data); } catch (_err) { return; }
    if (ev && ev.type === "relay_ready") {
      // Live from here on: refetch the newest events so a gap while the socket was down is filled.
      this.backfill();
      return;
    }
    if (ev && ev.event_id) this.ingest([ev], true);
  }

  remember(id) {
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > SEEN_IDS) this.seen.delete(this.seenOrder.shift());
  }

  ingest(events, live) {
    const fresh = [];
    for (const ev of events) {
      if (!ev || !ev.event_id || this.seen.has(ev.event_id)) continue;
      this.remember(ev.event_id);
      fresh.push(describe(ev));
      if (openInterest(ev) !== null) this.filters.noticeOpenInterest();
    }
    if (!fresh.length) return;
    this.total += fresh.length;
    this.count.textContent = int(this.total);
    let newest = 0;
    for (const r of fresh) newest = Math.max(newest, r.ts);
    this.onClock(newest);
    if (this.paused) {
      // Frozen: nothing moves; the counter says how much is waiting.
      this.pendingCount += fresh.length;
      this.pending.push(...fresh);
      if (this.pending.length > MAX_PENDING) this.pending.splice(0, this.pending.length - MAX_PENDING);
      this.newCount.textContent = `${int(this.pendingCount)} new`;
    } else {
      this.keep(fresh);
      if (live) for (const r of fresh) this.fresh.add(r.id);
      this.schedule();
    }
    // After they are held, so a listener reading all() sees them (the aggregates run even while paused).
    this.onEvents(fresh);
  }

  keep(rows) {
    for (const r of rows) this.rows.set(r.id, r);
    if (this.rows.size <= MAX_EVENTS) return;
    const oldest = [...this.rows.values()].sort((a, b) => a.ts - b.ts).slice(0, this.rows.size - MAX_EVENTS);
    for (const r of oldest) {
      this.rows.delete(r.id);
      this.table.forget(r.id);
    }
  }

  pause() {
    this.paused = true;
    this.pendingCount = 0;
    this.pauseBtn.textContent = "Resume";
    this.pauseBtn.setAttribute("aria-pressed", "true");
    this.newCount.textContent = "0 new";
    this.newCount.hidden = false;
  }

  resume() {
    this.paused = false;
    this.pauseBtn.textContent = "Pause";
    this.pauseBtn.setAttribute("aria-pressed", "false");
    this.newCount.hidden = true;
    const waiting = this.pending;
    this.pending = [];
    this.keep(waiting);
    for (const r of waiting) this.fresh.add(r.id);
    this.render();
  }

  filtered(filters) {
    this.match = predicate(filters);
    save(filters, this.sort);
    this.render();
  }

  sortBy(key) {
    const col = COLUMN[key];
    if (this.sort.key === key) this.sort = { key, dir: this.sort.dir === "desc" ? "asc" : "desc" };
    else this.sort = { key, dir: col.num || key === "time" ? "desc" : "asc" };
    this.table.showSort(this.sort);
    save(this.filters.state, this.sort);
    this.render();
  }

  // Renders coalesce to one per frame, however many events arrive in it.
  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (!this.paused) this.render();
    });
  }

  render() {
    const matching = [...this.rows.values()].filter(this.match);
    const view = sortRows(matching, this.sort).slice(0, MAX_ROWS);
    this.table.render(view, this.fresh);
    this.fresh = new Set();
    const filteredOut = matching.length < this.rows.size;
    this.shown.textContent = filteredOut ? `· ${int(matching.length)} match` : "";
    this.empty.hidden = view.length > 0;
    this.empty.textContent = this.rows.size ? "No events match the filters." : "Waiting for smart-money events…";
  }
}
