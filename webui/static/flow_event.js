// One smart-money event as the terminal reads it: the wire fields plus what every view derives from
// them (DTE, the repeat mark, the opening inference), computed once per event.

import { dateNY, daysToExpiry } from "./format.js";

export const REPEAT_PREFIX = "Repeat hit: ";

function num(v) {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

// Open interest is not on the feed yet: only a numeric field counts, so the column and the
// "opening only" filter light up by themselves once the field appears.
export function openInterest(ev) {
  return typeof ev.open_interest === "number" && Number.isFinite(ev.open_interest) ? ev.open_interest : null;
}

export function describe(ev) {
  const reason = String(ev.reason || "");
  const repeat = reason.startsWith(REPEAT_PREFIX);
  const volume = num(ev.volume);
  const oi = openInterest(ev);
  const ts = num(ev.ts);
  return {
    ev,
    id: String(ev.event_id),
    ts,
    date: dateNY(ts),
    symbol: String(ev.underlying || ""),
    expiry: String(ev.expiry || ""),
    strike: num(ev.strike),
    right: ev.right === "C" || ev.right === "P" ? ev.right : "",
    dte: daysToExpiry(ev.expiry, ts),
    spot: num(ev.spot),
    side: String(ev.side || ""),
    orderType: String(ev.order_type || ""),
    contracts: num(ev.contracts),
    price: num(ev.price),
    premium: num(ev.premium),
    volume,
    oi,
    opening: oi !== null && volume > oi,
    iv: num(ev.iv),
    profile: String(ev.profile_id || ""),
    direction: String(ev.direction || ""),
    reason: repeat ? reason.slice(REPEAT_PREFIX.length) : reason,
    repeat,
    contract: String(ev.contract || ""),
  };
}
