// The ticker view: one symbol's session chart with its flow marked, and its flow as a list.
// Non-modal, like the drawer: the feed stays live beside it; Escape or × closes it and focus
// goes back to the ticker that opened it.

import { describe } from "./flow_event.js";
import { drawPriceChart } from "./price_chart.js";
import { DIRECTION_LABEL, ORDER_LABEL, SIDE_LABEL, expiryLabel, money, pct, price, row, strikeLabel, timeNY } from "./format.js";

const REFRESH_MS = 30_000;   // the chart grows a point a minute at real speed
const MAX_LIST = 150;
const FETCH_LIMIT = 200;

export class TickerView {
  constructor({ flowRows, priorClose }) {
    this.panel = document.getElementById("ticker-view");
    this.symbolEl = document.getElementById("tv-symbol");
    this.quote = document.getElementById("tv-quote");
    this.svg = document.getElementById("tv-chart");
    this.note = document.getElementById("tv-chart-note");
    this.list = document.querySelector("#tv-flow tbody");
    this.closeBtn = document.getElementById("tv-close");
    this.flowRows = flowRows;        // () => every event the feed holds
    this.priorClose = priorClose;    // symbol -> prior close or undefined
    this.symbol = null;
    this.opener = null;
    this.chart = null;
    this.fetched = new Map();        // event id -> row, from the symbol's own flow request
    this.timer = null;
    this.closeBtn.addEventListener("click", () => this.close());
    // Capture phase: Escape closes this view first, unless the operator drawer holds focus.
    document.addEventListener("keydown", (ev) => {
      if (ev.key !== "Escape" || this.panel.hidden) return;
      const drawer = document.getElementById("drawer");
      if (drawer && !drawer.hidden && drawer.contains(document.activeElement)) return;
      ev.preventDefault();
      ev.stopImmediatePropagation();
      this.close();
    }, true);
  }

  isOpen() {
    return !this.panel.hidden;
  }

  open(symbol, opener) {
    this.symbol = symbol;
    this.opener = opener || null;
    this.fetched = new Map();
    this.chart = null;
    this.symbolEl.textContent = symbol;
    this.quote.textContent = "";
    this.note.textContent = "loading…";
    this.svg.replaceChildren();
    this.panel.hidden = false;
    this.panel.dataset.symbol = symbol;
    document.body.classList.add("ticker-open");
    this.closeBtn.focus();
    this.renderList();
    this.load(symbol);
    clearInterval(this.timer);
    this.timer = setInterval(() => this.loadChart(symbol), REFRESH_MS);
  }

  close() {
    this.panel.hidden = true;
    this.symbol = null;
    clearInterval(this.timer);
    document.body.classList.remove("ticker-open");
    const back = this.opener && this.opener.isConnected ? this.opener : document.getElementById("flow-scroll");
    back.focus();
  }

  async load(symbol) {
    await Promise.all([this.loadChart(symbol), this.loadFlow(symbol)]);
  }

  async loadChart(symbol) {
    try {
      const res = await fetch(`/api/chart/${encodeURIComponent(symbol)}`, { headers: { Accept: "application/json" } });
      const body = await res.json();
      if (symbol !== this.symbol) return;
      if (!res.ok) {
        this.note.textContent = body.message || `chart unavailable (${res.status})`;
        return;
      }
      this.chart = body;
      this.draw();
    } catch (_err) {
      if (symbol === this.symbol) this.note.textContent = "chart unavailable";
    }
  }

  async loadFlow(symbol) {
    try {
      const res = await fetch(`/api/flow/smart-money?symbol=${encodeURIComponent(symbol)}&limit=${FETCH_LIMIT}`,
        { headers: { Accept: "application/json" } });
      if (!res.ok || symbol !== this.symbol) return;
      for (const ev of (await res.json()).events || []) {
        const r = describe(ev);
        this.fetched.set(r.id, r);
      }
      this.draw();
      this.renderList();
    } catch (_err) {
      // The feed's own events still show.
    }
  }

  // This symbol's events: what the feed holds plus what was fetched for it, once each.
  events() {
    const out = new Map(this.fetched);
    for (const r of this.flowRows()) if (r.symbol === this.symbol) out.set(r.id, r);
    return [...out.values()].sort((a, b) => b.ts - a.ts);
  }

  // New feed events: redraw when one is about this symbol.
  onEvents(rows) {
    if (!this.isOpen() || !rows.some((r) => r.symbol === this.symbol)) return;
    this.draw();
    this.renderList();
  }

  draw() {
    if (!this.chart) return;
    const c = this.chart;
    const prior = c.prior_close || this.priorClose(this.symbol);
    const last = c.points.length ? c.points[c.points.length - 1][1] : null;
    this.quote.textContent = last === null ? "" : `${price(last)}${prior ? ` ${pct((last / prior - 1) * 100)}% vs prior close` : ""}`;
    const marked = drawPriceChart(this.svg, {
      points: c.points, session: c.session, events: this.events(), catalysts: c.catalysts, priorClose: prior,
    });
    this.svg.dataset.markers = String(marked);
    const next = (c.catalysts || []).find((k) => k.state === "upcoming");
    this.note.textContent = `${c.session.date} · ${marked} event${marked === 1 ? "" : "s"} marked`
      + (next ? ` · catalyst at ${timeNY(next.ts).slice(0, 5)}` : "");
  }

  renderList() {
    const rows = this.events().slice(0, MAX_LIST);
    this.list.replaceChildren(...rows.map((r) => {
      const tr = row([
        [timeNY(r.ts), "t"],
        [`${expiryLabel(r.expiry)} ${strikeLabel(r.strike)}${r.right}`, "contract"],
        [SIDE_LABEL[r.side] || "—", `side side-${r.side || "none"}`],
        [(ORDER_LABEL[r.orderType] || "—") + (r.repeat ? " · repeat" : ""), "otype tv-type"],
        [money(r.premium), "num prem" + (r.premium >= 1e6 ? " big" : "")],
        [DIRECTION_LABEL[r.direction] || "—", `dir dir-${r.direction}`, r.reason],
      ], "ev");
      tr.dataset.eventId = r.id;
      return tr;
    }));
  }
}
