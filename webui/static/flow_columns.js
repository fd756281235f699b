// The flow table's columns: one list says each column's header, how its cell reads, how it sorts and
// from which width it shows (tier 1 always; 2 from 760 px; 3 from 1100 px; 4, the reason, from 1700 px).
// Narrower screens reach the hidden columns through a row's expand button.

import {
  DIRECTION_LABEL, ORDER_LABEL, PROFILE_LABEL, PROFILE_SHORT, SIDE_LABEL,
  expiryLabel, int, ivLabel, money, priceOrDash, strikeLabel, tag, tickerButton, timeNY,
} from "./format.js";

const text = (t) => document.createTextNode(t);

function volumeCell(r) {
  const span = document.createElement("span");
  if (r.oi === null) {
    span.textContent = r.volume > 0 ? int(r.volume) : "—";
    return span;
  }
  span.textContent = `${int(r.volume)} / ${int(r.oi)}`;
  if (r.opening) span.append(" ", tag("OPENING", "opening"));
  return span;
}

function typeCell(r) {
  const span = document.createElement("span");
  span.append(r.orderType ? tag(ORDER_LABEL[r.orderType] || r.orderType.toUpperCase(), `type-${r.orderType}`) : text("—"));
  if (r.repeat) span.append(" ", tag("repeat", "repeat"));
  return span;
}

function sideCell(r) {
  return r.side ? tag(SIDE_LABEL[r.side] || r.side.toUpperCase(), `side-${r.side}`) : text("—");
}

function directionCell(r) {
  const span = document.createElement("span");
  span.className = "dir-word";
  span.textContent = DIRECTION_LABEL[r.direction] || (r.direction ? r.direction.toUpperCase() : "—");
  return span;
}

function reasonCell(r) {
  const span = document.createElement("span");
  if (r.repeat) span.append(tag("repeat", "repeat"), " ");
  span.append(r.reason || "—");
  return span;
}

const byText = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

export const COLUMNS = [
  { key: "time", label: "Time", tier: 1, cls: "t", get: (r) => r.ts, cell: (r) => text(timeNY(r.ts)) },
  { key: "ticker", label: "Ticker", tier: 1, cls: "sym", get: (r) => r.symbol, cmp: byText, cell: (r) => tickerButton(r.symbol) },
  { key: "expiry", label: "Expiry", tier: 2, get: (r) => r.expiry || "~", cmp: byText, cell: (r) => text(expiryLabel(r.expiry)) },
  { key: "strike", label: "Strike", tier: 1, num: true, get: (r) => r.strike, cell: (r) => text(strikeLabel(r.strike)) },
  { key: "right", label: "C/P", tier: 1, cls: "cp", get: (r) => r.right, cmp: byText, cell: (r) => text(r.right || "—") },
  { key: "dte", label: "DTE", tier: 2, num: true, get: (r) => (r.dte === null ? -1 : r.dte), cell: (r) => text(r.dte === null ? "—" : String(r.dte)) },
  { key: "spot", label: "Spot", tier: 3, num: true, get: (r) => r.spot, cell: (r) => text(priceOrDash(r.spot)) },
  { key: "side", label: "Side", tier: 1, get: (r) => r.side, cmp: byText, cell: sideCell },
  { key: "type", label: "Type", tier: 2, get: (r) => r.orderType, cmp: byText, cell: typeCell },
  { key: "size", label: "Size", tier: 2, num: true, get: (r) => r.contracts, cell: (r) => text(int(r.contracts)) },
  { key: "price", label: "Price", tier: 3, num: true, get: (r) => r.price, cell: (r) => text(priceOrDash(r.price)) },
  { key: "premium", label: "Premium", tier: 1, num: true, cls: "prem", get: (r) => r.premium, cell: (r) => text(money(r.premium)) },
  { key: "volume", label: "Vol/OI", tier: 3, num: true, get: (r) => r.volume, cell: volumeCell,
    title: "Contracts of this contract traded today; with open interest: volume / OI, OPENING when volume exceeds it" },
  { key: "iv", label: "IV", tier: 3, num: true, get: (r) => r.iv, cell: (r) => text(ivLabel(r.iv)) },
  { key: "profile", label: "Profile", tier: 2, cls: "prof", get: (r) => r.profile, cmp: byText,
    cell: (r) => text(PROFILE_SHORT[r.profile] || r.profile || "—") },
  { key: "direction", label: "Dir", tier: 1, cls: "dir", get: (r) => r.direction, cmp: byText, cell: directionCell },
  { key: "reason", label: "Reason", tier: 4, cls: "reason", cell: reasonCell },
];

export const COLUMN = Object.fromEntries(COLUMNS.map((c) => [c.key, c]));

// Newest first, the way a live feed reads.
export const DEFAULT_SORT = { key: "time", dir: "desc" };

// Sorted copy of ``rows``; ties fall back to newest first so the order never jitters.
export function sortRows(rows, sort) {
  const col = COLUMN[sort.key] && COLUMN[sort.key].get ? COLUMN[sort.key] : COLUMN.time;
  const sign = sort.dir === "asc" ? 1 : -1;
  const cmp = col.cmp || ((a, b) => a - b);
  return rows.slice().sort((a, b) => sign * cmp(col.get(a), col.get(b)) || b.ts - a.ts || byText(b.id, a.id));
}

// The full row, every field, for the expanded view at narrow widths.
export function detailFields(r) {
  return [
    ["Expiry", expiryLabel(r.expiry)], ["DTE", r.dte === null ? "—" : String(r.dte)],
    ["Contract", r.contract || "—"], ["Spot", priceOrDash(r.spot)],
    ["Type", (ORDER_LABEL[r.orderType] || "—") + (r.repeat ? " · repeat" : "")], ["Size", int(r.contracts)],
    ["Price", priceOrDash(r.price)], ["Vol/OI", volumeCell(r).textContent],
    ["IV", ivLabel(r.iv)], ["Profile", PROFILE_LABEL[r.profile] || r.profile || "—"],
    ["Reason", r.reason || "—"],
  ];
}
