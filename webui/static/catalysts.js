// Today's scheduled catalysts from the engine (/api/catalysts): symbol, time, upcoming or past.
// The server judges "past" by the session clock, so the list is simply refetched now and then.

import { tickerButton, timeNY } from "./format.js";

const REFRESH_MS = 30_000;

function minutesLabel(ms) {
  const m = Math.round(Math.abs(ms) / 60_000);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}` : `${m}m`;
}

export class CatalystCalendar {
  constructor({ onSession, onTicker }) {
    this.list = document.getElementById("catalysts");
    this.date = document.getElementById("cat-date");
    this.onSession = onSession || (() => {});
    this.list.addEventListener("click", (ev) => {
      const tk = ev.target.closest("button.tk");
      if (tk) onTicker(tk.dataset.symbol, tk);
    });
  }

  start() {
    this.load();
    setInterval(() => this.load(), REFRESH_MS);
  }

  async load() {
    try {
      const res = await fetch("/api/catalysts", { headers: { Accept: "application/json" } });
      if (!res.ok) return;
      const body = await res.json();
      this.onSession(body.session);
      this.render(body.session, body.catalysts || []);
    } catch (_err) {
      // Kept as last shown; the next refresh tries again.
    }
  }

  render(session, items) {
    this.date.textContent = session.date;
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "No scheduled catalysts today";
      this.list.replaceChildren(li);
      return;
    }
    this.list.replaceChildren(...items.map((c) => {
      const li = document.createElement("li");
      li.className = `cat cat-${c.state}`;
      li.dataset.symbol = c.symbol;
      const when = document.createElement("span");
      when.className = "cat-time";
      when.textContent = timeNY(c.ts).slice(0, 5);
      const name = document.createElement("span");
      name.className = "cat-name";
      name.textContent = c.name;
      const state = document.createElement("span");
      state.className = `tag tag-${c.state}`;
      const delta = c.ts - session.now_ms;
      state.textContent = c.state === "upcoming" ? `UPCOMING · in ${minutesLabel(delta)}` : `PAST · ${minutesLabel(delta)} ago`;
      li.append(tickerButton(c.symbol), when, name, state);
      return li;
    }));
  }
}
