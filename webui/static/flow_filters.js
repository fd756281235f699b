// The flow toolbar: what the trader wants to see, as one state object kept in localStorage so a
// reload keeps it. ``matches(row)`` is the predicate the table applies to every row, old and new.

const STORAGE_KEY = "synthmarket.flow.v1";
const TYPING_DELAY_MS = 150;   // the ticker box filters as one types, without a render per key

export const DEFAULT_FILTERS = {
  tickers: "", profiles: [], right: "both", side: "any", minPremium: 0,
  dteMin: "", dteMax: "", sweeps: false, opening: false,
};

const SIDES = {
  any: null,
  buy: ["ask", "above_ask"],
  sell: ["bid", "below_bid"],
  above_ask: ["above_ask"],
  below_bid: ["below_bid"],
  mid: ["mid"],
};

// The saved view: filters plus the sort. Anything unreadable falls back to the defaults.
export function loadSaved() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
    return { filters: { ...DEFAULT_FILTERS, ...(saved.filters || {}) }, sort: saved.sort || null };
  } catch (_err) {
    return { filters: { ...DEFAULT_FILTERS }, sort: null };
  }
}

export function save(filters, sort) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ filters, sort }));
  } catch (_err) {
    // Private mode or a full store: the view still works, it just is not remembered.
  }
}

function tickerSet(text) {
  return new Set(String(text || "").toUpperCase().split(/[\s,;]+/).filter(Boolean));
}

function dteBound(v) {
  if (v === "" || v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

// A predicate for one filter state (built once per change, run for every row).
export function predicate(f) {
  const tickers = tickerSet(f.tickers);
  const profiles = new Set(f.profiles || []);
  const sides = SIDES[f.side] || null;
  const lo = dteBound(f.dteMin);
  const hi = dteBound(f.dteMax);
  const minPremium = Number(f.minPremium) || 0;
  return (r) => {
    if (tickers.size && !tickers.has(r.symbol)) return false;
    if (profiles.size && !profiles.has(r.profile)) return false;
    if (f.right !== "both" && r.right !== f.right) return false;
    if (sides && !sides.includes(r.side)) return false;
    if (r.premium < minPremium) return false;
    if ((lo !== null || hi !== null) && r.dte === null) return false;
    if (lo !== null && r.dte < lo) return false;
    if (hi !== null && r.dte > hi) return false;
    if (f.sweeps && r.orderType !== "sweep") return false;
    if (f.opening && !r.opening) return false;
    return true;
  };
}

export function activeCount(f) {
  let n = 0;
  for (const key of Object.keys(DEFAULT_FILTERS)) {
    if (JSON.stringify(f[key]) !== JSON.stringify(DEFAULT_FILTERS[key])) n += 1;
  }
  return n;
}

export class FlowFilters {
  constructor({ initial, onChange }) {
    this.form = document.getElementById("flow-filters");
    this.toggle = document.getElementById("flow-filters-toggle");
    this.opening = document.getElementById("f-opening");
    this.openingWrap = document.getElementById("f-opening-wrap");
    this.state = { ...initial };
    this.onChange = onChange;
    this.timer = null;
    this.hasOpenInterest = false;
    this.render();
    this.form.addEventListener("submit", (ev) => ev.preventDefault());
    this.form.addEventListener("input", (ev) => this.edited(ev.target.id === "f-ticker"));
    this.form.addEventListener("change", () => this.edited(false));
    this.form.addEventListener("reset", (ev) => {
      ev.preventDefault();
      this.state = { ...DEFAULT_FILTERS };
      this.render();
      this.changed();
    });
    document.getElementById("f-profiles").addEventListener("click", (ev) => {
      const chip = ev.target.closest("[data-profile]");
      if (!chip) return;
      chip.setAttribute("aria-pressed", chip.getAttribute("aria-pressed") === "true" ? "false" : "true");
      this.edited(false);
    });
    // Narrow screens fold the toolbar away behind this button; wide ones always show it.
    this.toggle.addEventListener("click", () => {
      const open = this.toggle.getAttribute("aria-expanded") !== "true";
      this.toggle.setAttribute("aria-expanded", String(open));
      this.form.classList.toggle("open", open);
    });
  }

  // Form -> state, then tell the table (typing in the ticker box waits for a pause).
  edited(typing) {
    clearTimeout(this.timer);
    const apply = () => {
      this.state = this.read();
      this.changed();
    };
    if (typing) this.timer = setTimeout(apply, TYPING_DELAY_MS);
    else apply();
  }

  changed() {
    const n = activeCount(this.state);
    this.toggle.textContent = n ? `Filters (${n})` : "Filters";
    this.onChange(this.state);
  }

  read() {
    const el = this.form.elements;
    const right = this.form.querySelector('input[name="right"]:checked');
    return {
      tickers: el.ticker.value,
      profiles: [...this.form.querySelectorAll('#f-profiles [aria-pressed="true"]')].map((b) => b.dataset.profile),
      right: right ? right.value : "both",
      side: el.side.value,
      minPremium: Number(el.min_premium.value) || 0,
      dteMin: el.dte_min.value,
      dteMax: el.dte_max.value,
      sweeps: el.sweeps.checked,
      opening: this.hasOpenInterest && el.opening.checked,
    };
  }

  render() {
    const el = this.form.elements;
    const s = this.state;
    el.ticker.value = s.tickers;
    for (const chip of this.form.querySelectorAll("#f-profiles [data-profile]")) {
      chip.setAttribute("aria-pressed", String(s.profiles.includes(chip.dataset.profile)));
    }
    for (const radio of this.form.querySelectorAll('input[name="right"]')) radio.checked = radio.value === s.right;
    el.side.value = s.side in SIDES ? s.side : "any";
    el.min_premium.value = String(s.minPremium || 0);
    if (el.min_premium.selectedIndex < 0) el.min_premium.value = "0";
    el.dte_min.value = s.dteMin;
    el.dte_max.value = s.dteMax;
    el.sweeps.checked = Boolean(s.sweeps);
    el.opening.checked = Boolean(s.opening) && this.hasOpenInterest;
    const n = activeCount(s);
    this.toggle.textContent = n ? `Filters (${n})` : "Filters";
  }

  // The first event that carries open interest makes "opening only" usable.
  noticeOpenInterest() {
    if (this.hasOpenInterest) return;
    this.hasOpenInterest = true;
    this.opening.disabled = false;
    this.opening.removeAttribute("aria-describedby");
    this.openingWrap.title = "Only events whose volume today exceeds the contract's open interest";
    if (this.state.opening) this.render();
  }
}
