// The ticker view's chart: the session's minute prices as a line, flow events as markers at their
// times (shape and colour by direction, each with a title), scheduled catalysts as dashed rules.

import { DIRECTION_LABEL, money, price, timeNY } from "./format.js";

const NS = "http://www.w3.org/2000/svg";
const PAD = { left: 8, right: 52, top: 10, bottom: 20 };
const MARK = 5;   // marker half-size in chart units

function el(name, attrs = {}, text = "") {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text) node.textContent = text;
  return node;
}

// Up triangle for bullish, down triangle for bearish, diamond for neutral: shape says it without colour.
function markerPath(direction, x, y) {
  const s = MARK;
  if (direction === "bullish") return `M${x},${y - s} L${x + s},${y + s} L${x - s},${y + s} Z`;
  if (direction === "bearish") return `M${x},${y + s} L${x + s},${y - s} L${x - s},${y - s} Z`;
  return `M${x},${y - s} L${x + s},${y} L${x},${y + s} L${x - s},${y} Z`;
}

// Price at ``ts`` on the minute line (the nearest earlier point; the event's own spot is preferred).
function priceAt(points, ts) {
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (points[mid][0] <= ts) lo = mid; else hi = mid - 1;
  }
  return points[lo][1];
}

export function drawPriceChart(svg, { points, session, events, catalysts, priorClose }) {
  svg.replaceChildren();
  if (!points || points.length < 1) return 0;
  // Drawn in the SVG's own pixels, so labels and markers keep their size on a phone and a desktop.
  const W = Math.max(300, Math.round(svg.clientWidth || 640));
  const H = W < 500 ? 200 : 240;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  // The session so far: from the open to now, or to the newest event when one came after the
  // chart was fetched (the line is refetched every 30 s; events arrive live).
  const x0 = session.open_ms;
  const inSession = events.filter((r) => r.ts >= x0 && r.ts <= session.close_ms);
  let x1 = Math.max(session.now_ms, points[points.length - 1][0], x0 + 60_000);
  for (const r of inSession) x1 = Math.max(x1, r.ts);
  const ys = points.map((p) => p[1]);
  for (const r of inSession) if (r.spot > 0) ys.push(r.spot);
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  // The prior close joins the scale only when it is near the day's range: a big overnight gap
  // would flatten the session's line (the header says the change in words either way).
  const near = priorClose && priorClose >= lo - (hi - lo) && priorClose <= hi + (hi - lo);
  if (near) {
    lo = Math.min(lo, priorClose);
    hi = Math.max(hi, priorClose);
  }
  const pad = (hi - lo) * 0.08 || hi * 0.002 || 1;
  lo -= pad;
  hi += pad;
  const x = (ts) => PAD.left + ((ts - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
  const y = (v) => PAD.top + (1 - (v - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);

  const grid = el("g", { class: "grid" });
  for (const v of [lo + pad, (lo + hi) / 2, hi - pad]) {
    grid.append(el("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v).toFixed(1), y2: y(v).toFixed(1) }),
      el("text", { x: W - PAD.right + 4, y: (y(v) + 3).toFixed(1) }, price(v)));
  }
  for (const ts of [x0, (x0 + x1) / 2, x1]) {
    grid.append(el("text", { x: x(ts).toFixed(1), y: H - 5, "text-anchor": ts === x0 ? "start" : ts === x1 ? "end" : "middle" },
      timeNY(ts).slice(0, 5)));
  }
  svg.append(grid);
  if (near) {
    svg.append(el("line", { class: "prior", x1: PAD.left, x2: W - PAD.right, y1: y(priorClose).toFixed(1), y2: y(priorClose).toFixed(1) },
    ), el("text", { class: "prior-label", x: PAD.left + 2, y: (y(priorClose) - 3).toFixed(1) }, `prior close ${price(priorClose)}`));
  }
  for (const c of (catalysts || []).filter((c) => c.ts <= x1)) {
    const cx = x(c.ts).toFixed(1);
    const rule = el("line", { class: "cat", x1: cx, x2: cx, y1: PAD.top, y2: H - PAD.bottom });
    rule.append(el("title", {}, `${c.name} ${timeNY(c.ts)} (${c.state})`));
    svg.append(rule);
  }
  const line = points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ");
  svg.append(el("polyline", { class: "px", points: line }));
  const marks = el("g", { class: "marks" });
  for (const r of inSession.sort((a, b) => a.ts - b.ts)) {
    const v = r.spot > 0 ? r.spot : priceAt(points, r.ts);
    const m = el("path", { d: markerPath(r.direction, x(r.ts), y(v)), class: `mk mk-${r.direction || "neutral"}` });
    m.dataset.eventId = r.id;
    m.append(el("title", {}, `${timeNY(r.ts)} ${DIRECTION_LABEL[r.direction] || r.direction} ${money(r.premium)} ${r.right} ${r.strike} — ${r.reason}`));
    marks.append(m);
  }
  svg.append(marks);
  return inSession.length;
}
