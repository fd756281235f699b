// Tiny inline SVG sparklines: one polyline scaled to the series' own range.

const NS = "http://www.w3.org/2000/svg";
const W = 84;
const H = 18;

export function sparkline() {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  svg.setAttribute("class", "spark");
  svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS(NS, "polyline");
  svg.appendChild(line);
  return svg;
}

export function drawSparkline(svg, series) {
  const line = svg.firstChild;
  if (!series || series.length < 2) {
    line.setAttribute("points", "");
    return;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of series) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const span = hi - lo || 1;
  const step = W / (series.length - 1);
  const pts = series.map((v, i) => `${(i * step).toFixed(1)},${(H - 1 - ((v - lo) / span) * (H - 2)).toFixed(1)}`);
  line.setAttribute("points", pts.join(" "));
  svg.classList.toggle("down", series[series.length - 1] < series[0]);
}
