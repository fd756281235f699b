// Session aggregates: the "tide" (cumulative call premium against put premium through the day) and
// the top tickers by premium, split calls / puts. Built from every event the page receives, counted
// once each, for the newest session date seen. The feed's first load holds only the newest 500
// events, so the rest of the day is paged in from the history route behind it.

import { describe } from "./flow_event.js";
import { money, tickerButton, timeNY } from "./format.js";

const NS = "http://www.w3.org/2000/svg";
const W = 600;
const H = 110;
const BUCKET_MS = 60_000;
const TOP_N = 8;
const BAR_W = 90;
const HISTORY_PAGE = 500;       // the gateway's maximum page
const HISTORY_PAGES = 40;       // 20,000 events: several whole sessions of this market
const ORDER_SLACK_MS = 300_000; // events reach the stream slightly out of time order

function svgEl(name, attrs) {
  const el = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

export class SessionTide {
  constructor({ onTicker }) {
    this.svg = document.getElementById("tide-chart");
    this.calls = document.getElementById("tide-calls");
    this.puts = document.getElementById("tide-puts");
    this.net = document.getElementById("tide-net");
    this.span = document.getElementById("tide-span");
    this.top = document.getElementById("top-tickers");
    this.session = null;   // {date, open_ms, close_ms, now_ms} from the server, when known
    this.triedAt = 0;
    this.reset("");
    this.frame = 0;
    this.top.addEventListener("click", (ev) => {
      const tk = ev.target.closest("button.tk");
      if (tk) onTicker(tk.dataset.symbol, tk);
    });
  }

  reset(date) {
    this.date = date;
    this.ids = new Set();        // counted event ids of this date (a day holds a few thousand)
    this.filling = false;
    this.filledFrom = 0;         // the earliest ts the history has been read from
    this.buckets = new Map();    // minute bucket -> [call premium, put premium]
    this.tickers = new Map();    // symbol -> {call, put}
    this.first = Infinity;
    this.last = 0;
  }

  setSession(session) {
    this.session = session;
    this.schedule();
    this.fillFromOpen();
  }

  add(rows) {
    for (const r of rows) {
      if (!r.date || !r.right) continue;
      if (r.date > this.date) this.reset(r.date);      // a new session began: start the day over
      if (r.date !== this.date || this.ids.has(r.id)) continue;   // an older day's event, or counted
      this.ids.add(r.id);
      const b = Math.floor(r.ts / BUCKET_MS);
      const slot = this.buckets.get(b) || [0, 0];
      slot[r.right === "C" ? 0 : 1] += r.premium;
      this.buckets.set(b, slot);
      const t = this.tickers.get(r.symbol) || { call: 0, put: 0 };
      if (r.right === "C") t.call += r.premium;
      else t.put += r.premium;
      this.tickers.set(r.symbol, t);
      this.first = Math.min(this.first, r.ts);
      this.last = Math.max(this.last, r.ts);
    }
    this.schedule();
    this.fillFromOpen();
  }

  // Page the day from the open up to the first event held (and a little past it: ids de-duplicate).
  async fillFromOpen() {
    const s = this.session;
    if (!s || s.date !== this.date || this.filling || this.filledFrom === s.open_ms) return;
    if (!Number.isFinite(this.first) || this.first - s.open_ms < 60_000) return;
    if (Date.now() - this.triedAt < 30_000) return;   // after a failure, not again on every event
    this.triedAt = Date.now();
    this.filling = true;
    const date = this.date;
    const end = this.first + ORDER_SLACK_MS;
    let cursor = "";
    try {
      for (let page = 0; page < HISTORY_PAGES; page += 1) {
        const q = new URLSearchParams({ start: String(s.open_ms), end: String(end), limit: String(HISTORY_PAGE) });
        if (cursor) q.set("cursor", cursor);
        const res = await fetch(`/api/flow/history?${q}`, { headers: { Accept: "application/json" } });
        if (!res.ok || this.date !== date) break;
        const body = await res.json();
        this.add((body.events || []).map(describe));
        cursor = body.next_cursor || "";
        if (!cursor) {
          this.filledFrom = s.open_ms;
          break;
        }
      }
    } catch (_err) {
      // The live part of the day still counts; the next session info tries again.
    } finally {
      this.filling = false;
      this.schedule();
    }
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  // The x axis: from the open to now when the server's session is this date, else the events' span.
  axis() {
    const s = this.session;
    if (s && s.date === this.date) return [s.open_ms, Math.max(s.now_ms, this.last) + BUCKET_MS];
    return [this.first, Math.max(this.last, this.first + BUCKET_MS)];
  }

  render() {
    this.svg.replaceChildren();
    if (!this.buckets.size) return;
    const [x0, x1] = this.axis();
    const keys = [...this.buckets.keys()].sort((a, b) => a - b);
    let call = 0;
    let put = 0;
    const cPts = [];
    const pPts = [];
    const x = (ts) => ((ts - x0) / (x1 - x0 || 1)) * W;
    const series = [];
    for (const k of keys) {
      const [c, p] = this.buckets.get(k);
      call += c;
      put += p;
      series.push([(k + 1) * BUCKET_MS, call, put]);
    }
    const top = Math.max(call, put, 1);
    const y = (v) => H - 4 - (v / top) * (H - 12);
    cPts.push(`${x(keys[0] * BUCKET_MS).toFixed(1)},${y(0).toFixed(1)}`);
    pPts.push(cPts[0]);
    for (const [ts, c, p] of series) {
      cPts.push(`${x(ts).toFixed(1)},${y(c).toFixed(1)}`);
      pPts.push(`${x(ts).toFixed(1)},${y(p).toFixed(1)}`);
    }
    this.svg.append(
      svgEl("line", { x1: 0, y1: H - 4, x2: W, y2: H - 4, class: "axis" }),
      svgEl("polyline", { points: cPts.join(" "), class: "tide-call" }),
      svgEl("polyline", { points: pPts.join(" "), class: "tide-put" }),
    );
    this.calls.textContent = money(call);
    this.puts.textContent = money(put);
    const diff = call - put;
    this.net.textContent = `net ${diff >= 0 ? "calls" : "puts"} ${money(Math.abs(diff))}`;
    const since = this.first;
    const s = this.session;
    const fromOpen = s && s.date === this.date && (this.filledFrom === s.open_ms || since - s.open_ms < 5 * BUCKET_MS);
    // Honest about coverage: at load only the newest events exist, so say where the line starts.
    this.span.textContent = `${this.date} · ${fromOpen ? "from the open" : `since ${timeNY(since)}`} · to ${timeNY(this.last)}`;
    this.renderTop();
  }

  renderTop() {
    const ranked = [...this.tickers.entries()]
      .map(([symbol, t]) => ({ symbol, ...t, total: t.call + t.put }))
      .sort((a, b) => b.total - a.total)
      .slice(0, TOP_N);
    const max = ranked.length ? ranked[0].total : 1;
    this.top.replaceChildren(...ranked.map((t) => {
      const li = document.createElement("li");
      li.dataset.symbol = t.symbol;
      const bar = svgEl("svg", { viewBox: `0 0 ${BAR_W} 8`, width: BAR_W, height: 8, class: "split-bar", "aria-hidden": "true" });
      const cw = (t.call / max) * BAR_W;
      const pw = (t.put / max) * BAR_W;
      bar.append(svgEl("rect", { x: 0, y: 0, width: cw.toFixed(1), height: 8, class: "bar-call" }),
        svgEl("rect", { x: cw.toFixed(1), y: 0, width: pw.toFixed(1), height: 8, class: "bar-put" }));
      const callPct = Math.round((t.call / (t.total || 1)) * 100);
      const label = document.createElement("span");
      label.className = "top-num";
      label.textContent = `${money(t.total)} · C ${callPct}% / P ${100 - callPct}%`;
      li.append(tickerButton(t.symbol), bar, label);
      return li;
    }));
  }
}
