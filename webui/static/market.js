// Option prints, equity quotes with sparklines and the session context, all from /ws/market; the
// quotes' change is against the prior trading day's close, which the web server computes from the
// engine (/api/prior-close), not against the first price this page happened to see.

import { ReconnectingSocket } from "./socket.js";
import { contractLabel, dateNY, int, label, money, pct, price, row, tickerButton, timeNY } from "./format.js";
import { drawSparkline, sparkline } from "./sparkline.js";

const MAX_PRINTS = 120;
const DEFAULT_SPARKS = 6;   // before the session names its focus symbols
const PRIOR_RETRY_MS = 30_000;

export class MarketPanels {
  constructor({ onState, onClock, universe, onTicker }) {
    this.prints = document.querySelector("#prints-tape tbody");
    this.quotes = document.querySelector("#quotes tbody");
    this.phase = document.getElementById("ctx-phase");
    this.regime = document.getElementById("ctx-regime");   // only rendered for operators
    this.focusChip = document.getElementById("ctx-focus");
    this.universe = universe;
    this.focus = [];
    this.rows = new Map();    // symbol -> {tr, cells, svg}
    this.prior = { date: "", closes: {} };   // the session's date and each symbol's prior close
    this.priorAsked = 0;
    this.chgHead = document.getElementById("chg-head");
    this.quotes.addEventListener("click", (ev) => {
      const tk = ev.target.closest("button.tk");
      if (tk && onTicker) onTicker(tk.dataset.symbol, tk);
    });
    this.onClock = onClock || (() => {});
    this.onState = onState;
    this.socket = new ReconnectingSocket("/ws/market", {
      onMessage: (data) => this.onMessage(data),
      // An open socket is only "live" once the server says its NATS feed is up (snapshot).
      onState: (state) => { if (state !== "live") onState(state); },
      staleMs: 25000,          // the server sends a heartbeat every 10 s
    });
  }

  start() {
    this.loadPriorClose();
    this.socket.start();
  }

  async loadPriorClose() {
    this.priorAsked = Date.now();
    try {
      const res = await fetch("/api/prior-close", { headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const body = await res.json();
      this.prior = { date: body.session.date, closes: body.closes || {} };
      this.chgHead.title = `Change against the close of ${body.prior_date}`;
      for (const r of this.rows.values()) this.showChange(r);
    } catch (_err) {
      // Changes show a dash until the next try.
    }
  }

  // A later session date on the tape means a new day (fast clocks roll sessions): new prior closes.
  checkSessionDate(ts) {
    const day = dateNY(ts);
    if (day && day > this.prior.date && Date.now() - this.priorAsked > PRIOR_RETRY_MS) this.loadPriorClose();
  }

  priorClose(symbol) {
    return this.prior.closes[symbol];
  }

  showChange(r) {
    const prior = this.prior.closes[r.symbol];
    const change = prior && r.mark !== null ? (r.mark / prior - 1) * 100 : null;
    r.chg.textContent = pct(change);
    r.chg.className = `num chg ${change > 0 ? "pos" : change < 0 ? "neg" : ""}`;
  }

  onMessage(data) {
    let msg;
    try { msg = JSON.parse(data); } catch (_err) { return; }
    if (msg.feed) this.onState(msg.feed.nats ? "live" : "nodata");
    switch (msg.type) {
      case "snapshot":
        this.prints.replaceChildren();
        this.addPrints(msg.prints || []);
        this.setSession(msg.session || {});
        for (const s of msg.symbols || []) this.updateSymbol(s);
        this.reorder();
        break;
      case "prints": this.addPrints(msg.items || []); break;
      case "symbols": for (const s of msg.items || []) this.updateSymbol(s); break;
      case "session": this.setSession(msg.session || {}); break;
      default: break;
    }
  }

  addPrints(items) {
    for (const p of items) {
      const tr = row([
        [timeNY(p.ts), "t"],
        [contractLabel(p.underlying, p.expiry, p.strike, p.right), "contract", p.contract],
        [price(p.price), "num"],
        [int(p.size), "num"],
        [money(p.premium), "num prem" + (p.premium >= 250000 ? " big" : "")],
        [p.side || "·", `side side-${p.side || "none"}`],
        [p.exchange + (p.multi_leg ? "·ML" : ""), "ex col-ex"],
      ], `pr right-${p.right}`);
      this.prints.insertBefore(tr, this.prints.firstChild);
      this.onClock(p.ts);
    }
    while (this.prints.childElementCount > MAX_PRINTS) this.prints.lastChild.remove();
  }

  setSession(s) {
    this.phase.textContent = `phase ${label(s.session_phase)}`;
    if (this.regime && "regime" in s) this.regime.textContent = `regime ${label(s.regime)}`;
    const focus = s.focus_symbols || [];
    this.focusChip.textContent = focus.length ? `focus ${focus.join(" ")}` : "focus —";
    if (focus.join() !== this.focus.join()) {
      this.focus = focus;
      this.reorder();
    }
  }

  sparkSymbols() {
    if (this.focus.length) return new Set(this.focus);
    const known = this.universe.filter((s) => this.rows.has(s));
    return new Set((known.length ? known : [...this.rows.keys()].sort()).slice(0, DEFAULT_SPARKS));
  }

  ensureRow(symbol) {
    let r = this.rows.get(symbol);
    if (r) return r;
    const tr = row([["", "sym"], ["—", "num last"], ["—", "num chg"], ["—", "num bbo"], ["", "trend"]], "q");
    tr.dataset.symbol = symbol;
    tr.firstChild.appendChild(tickerButton(symbol));
    const svg = sparkline();
    tr.lastChild.appendChild(svg);
    r = { symbol, tr, last: tr.children[1], chg: tr.children[2], bbo: tr.children[3], svg, spark: [], mark: null };
    this.rows.set(symbol, r);
    this.quotes.appendChild(tr);
    this.reorder();
    return r;
  }

  updateSymbol(s) {
    const r = this.ensureRow(s.symbol);
    const prev = Number(r.last.dataset.v);
    const mark = s.last ?? (s.bid !== null && s.ask !== null ? (s.bid + s.ask) / 2 : null);
    r.last.textContent = price(mark);
    if (Number.isFinite(prev) && mark !== null && mark !== prev) {
      r.last.classList.remove("up", "down");
      r.last.classList.add(mark > prev ? "up" : "down");
    }
    if (mark !== null) r.last.dataset.v = String(mark);
    r.mark = mark;
    this.showChange(r);
    this.checkSessionDate(s.ts);
    r.bbo.textContent = s.bid === null ? "no quote" : `${price(s.bid)} × ${price(s.ask)}`;
    r.spark = s.spark || [];
    if (r.tr.classList.contains("focus")) drawSparkline(r.svg, r.spark);
  }

  reorder() {
    const sparks = this.sparkSymbols();
    const order = [...this.focus.filter((s) => this.rows.has(s)),
      ...this.universe.filter((s) => this.rows.has(s) && !this.focus.includes(s)),
      ...[...this.rows.keys()].filter((s) => !this.universe.includes(s) && !this.focus.includes(s)).sort()];
    for (const sym of order) {
      const r = this.rows.get(sym);
      const on = sparks.has(sym);
      r.tr.classList.toggle("focus", on);
      r.svg.style.visibility = on ? "visible" : "hidden";
      if (on) drawSparkline(r.svg, r.spark);
      this.quotes.appendChild(r.tr);
    }
  }
}
