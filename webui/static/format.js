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

// "AAPL 12/18/26 230C" from the event or print fields (the OCC symbol is too wide for a dense row);
// the year is always there, so a LEAPS contract is never read as this year's.
export function contractLabel(underlying, expiry, strike, right) {
  if (!expiry || !right) return "";
  const [yyyy, mm, dd] = String(expiry).split("-");
  const k = Number(strike);
  const ks = Number.isInteger(k) ? String(k) : k.toFixed(1);
  return `${underlying} ${mm}/${dd}/${String(yyyy).slice(2)} ${ks}${right}`;
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

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
// en-CA formats a date as YYYY-MM-DD, so the New York calendar date sorts and compares as text.
const NY_DATE = new Intl.DateTimeFormat("en-CA", {
  timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit",
});

// "YYYY-MM-DD" of an instant in New York ("" for a missing time).
export function dateNY(ms) {
  if (!Number.isFinite(ms) || ms <= 0) return "";
  return NY_DATE.format(new Date(ms));
}

// "Dec 18 '26": the year always shows, so a LEAPS expiry is never read as this year's.
export function expiryLabel(expiry) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(expiry || ""));
  if (!m) return "—";
  return `${MONTHS[Number(m[2]) - 1]} ${m[3]} '${m[1].slice(2)}`;
}

// Calendar days from the event's New York date to expiry (what "DTE" means on every flow tool).
export function daysToExpiry(expiry, ts) {
  const day = dateNY(ts);
  if (!day || !/^\d{4}-\d{2}-\d{2}$/.test(String(expiry || ""))) return null;
  return Math.round((Date.parse(`${expiry}T00:00:00Z`) - Date.parse(`${day}T00:00:00Z`)) / 86400000);
}

export function strikeLabel(k) {
  const n = Number(k);
  if (!Number.isFinite(n) || n <= 0) return "—";
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 100 ? 2 : 1);
}

export function ivLabel(iv) {
  return Number.isFinite(iv) && iv > 0 ? `${(iv * 100).toFixed(1)}%` : "—";
}

// A value older events do not carry ("" or 0) shows as a dash.
export function priceOrDash(p) {
  return Number.isFinite(p) && p > 0 ? price(p) : "—";
}

export const SIDE_LABEL = { ask: "ASK", above_ask: "ABOVE ASK", bid: "BID", below_bid: "BELOW BID", mid: "MID" };
export const ORDER_LABEL = { sweep: "SWEEP", block: "BLOCK", split: "SPLIT", multi_leg: "MULTI-LEG" };
// Words and arrows, so direction never rests on colour alone.
export const DIRECTION_LABEL = { bullish: "▲ BULL", bearish: "▼ BEAR", neutral: "◆ NEUT" };

// A tag is a short word in a box: the text carries the meaning, the colour only repeats it.
export function tag(text, kind) {
  const span = document.createElement("span");
  span.className = `tag tag-${kind}`;
  span.textContent = text;
  return span;
}

// A ticker that opens the ticker view: a real button, so Enter and Space work everywhere.
export function tickerButton(symbol) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "tk";
  b.dataset.symbol = symbol;
  b.textContent = symbol;
  b.title = `Open ${symbol}: chart and flow`;
  return b;
}
