// Number, time and label formatting shared by the panels.

const NY_TIME = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York", hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit",
});

export function timeNY(ms) {
  if (!Number.isFinite(ms) || ms <= 0) return "--:--:--";
  return NY_TIME.format(new Date(ms));
}

export function money(usd) {
  if (!Number.isFinite(usd)) return "—";
  const abs = Math.abs(usd);
  if (abs >= 1e6) return `$${(usd / 1e6).toFixed(abs >= 1e7 ? 1 : 2)}M`;
  if (abs >= 1e3) return `$${(usd / 1e3).toFixed(abs >= 1e5 ? 0 : 1)}K`;
  return `$${usd.toFixed(0)}`;
}

export function int(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "—";
}

export function price(p) {
  if (p === null || p === undefined || !Number.isFinite(p)) return "—";
  return p >= 1000 ? p.toFixed(1) : p.toFixed(2);
}

export function pct(p) {
  if (p === null || p === undefined || !Number.isFinite(p)) return "—";
  return `${p >= 0 ? "+" : ""}${p.toFixed(2)}`;
}

export const PROFILE_SHORT = {
  institutional_directional: "INST",
  retail_whale: "RETAIL",
  event_driven: "EVENT",
  vol_seller: "VOLSELL",
  arbitrage: "ARB",
  hedge_reactive: "HEDGE",
};

export const PROFILE_LABEL = {
  institutional_directional: "Institutional",
  retail_whale: "Retail whale",
  event_driven: "Event driven",
  vol_seller: "Vol seller",
  arbitrage: "Arbitrage",
  hedge_reactive: "Hedge reactive",
};

export function label(id) {
  return String(id || "").replace(/_/g, " ") || "—";
}

// "AAPL 12/18 230C" from the event or print fields (the OCC symbol is too wide for a dense row).
export function contractLabel(underlying, expiry, strike, right) {
  if (!expiry || !right) return "";
  const [, mm, dd] = String(expiry).split("-");
  const k = Number(strike);
  const ks = Number.isInteger(k) ? String(k) : k.toFixed(1);
  return `${underlying} ${mm}/${dd} ${ks}${right}`;
}

// Build a <tr> from [text, className] cells; textContent only, so no markup from the wire runs.
export function row(cells, className = "") {
  const tr = document.createElement("tr");
  if (className) tr.className = className;
  for (const [text, cls, title] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    if (title) td.title = title;
    tr.appendChild(td);
  }
  return tr;
}
