// The operator drawer: control state through the web server's proxy, optimistic and conflict-safe.
//
// shared_seed can exceed 2^53, so it is never parsed into a JS number for reuse: the seed shown
// is the digits cut from the response text, and a PUT never carries it (the web server fills it
// in from the current control on its side, where integers are exact).
//
// Without an operator session every admin route answers 401, so the drawer opens read-only: the
// controls stay disabled, no request is made, and a link leads to the sign-in page. Signed in,
// the page carries the session's CSRF token (data-csrf), which every PUT sends as X-CSRF-Token.

import { label, timeNY } from "./format.js";

const CONTROL_URL = "/api/admin/synthetic/control";
const STATUS_URL = "/api/admin/synthetic/status";
const DEBOUNCE_MS = 250;
const POLL_MS = 5000;
// Profiles and weight names come from the server-rendered form (one source: synthmarket.domain.control).
const PROFILES = [...document.querySelectorAll("#controls fieldset[data-profile]")].map((f) => f.dataset.profile);
const WEIGHT_NAME = Object.fromEntries(
  [...document.querySelectorAll(`#controls input[name="w_${PROFILES[0]}"]`)]
    .map((r) => [Number(r.value), r.nextElementSibling.textContent]));

export function seedText(jsonText) {
  const m = /"shared_seed"\s*:\s*(-?\d+)/.exec(jsonText || "");
  return m ? m[1] : null;
}

function weightName(v) {
  for (const [k, name] of Object.entries(WEIGHT_NAME)) if (Math.abs(Number(k) - v) < 1e-9) return name;
  return String(v);
}

// The writable part of a control state, without the seed and the server-set fields.
function editable(c) {
  const w = {};
  for (const p of PROFILES) w[p] = Number(c.profile_weights[p]);
  return {
    preset_id: c.preset_id,
    coverage_assist: Boolean(c.coverage_assist),
    coverage_window_minutes: Number(c.coverage_window_minutes),
    profile_weights: w,
  };
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function readBody(res) {
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_err) { /* not JSON */ }
  return { text, json };
}

export class ControlDrawer {
  constructor() {
    this.gear = document.getElementById("gear");
    this.drawer = document.getElementById("drawer");
    this.closeBtn = document.getElementById("drawer-close");
    this.fields = document.getElementById("controls-fields");
    this.form = document.getElementById("controls");
    this.message = document.getElementById("drawer-message");
    this.saveState = document.getElementById("save-state");
    this.confirmed = null;   // last state the gateway acknowledged (editable part)
    this.desired = null;     // what the form shows
    this.etag = null;
    this.timer = null;
    this.inFlight = false;
    this.dirty = false;      // edits made while a PUT was in flight
    this.disabledReason = null;
    this.pollTimer = null;
    this.puts = 0;
    this.signedIn = Boolean(document.body.dataset.operator);
    this.csrf = document.body.dataset.csrf || "";
  }

  init() {
    this.gear.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));
    this.closeBtn.addEventListener("click", () => this.close());
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.isOpen()) {
        ev.preventDefault();
        this.close();
      }
    });
    this.form.addEventListener("submit", (ev) => ev.preventDefault());
    this.form.addEventListener("change", () => this.onEdit());
    this.setEnabled(false);
    if (!this.signedIn) this.signedOut(null);
  }

  isOpen() {
    return !this.drawer.hidden;
  }

  open() {
    this.drawer.hidden = false;
    this.gear.setAttribute("aria-expanded", "true");
    document.body.classList.add("drawer-open");
    if (!this.signedIn) {
      // Read only: nothing to load; the way to sign in is the first thing to reach.
      document.getElementById("signin-link").focus();
      return;
    }
    // Focus lands inside the drawer at once, and on the first control once it is usable.
    this.closeBtn.focus();
    this.loadControl().then(() => {
      if (this.isOpen() && !this.fields.disabled && document.activeElement === this.closeBtn) {
        document.getElementById("ctl-preset").focus();
      }
    });
    this.pollStatus();
    clearInterval(this.pollTimer);
    this.pollTimer = setInterval(() => this.pollStatus(), POLL_MS);
  }

  close() {
    this.drawer.hidden = true;
    this.gear.setAttribute("aria-expanded", "false");
    document.body.classList.remove("drawer-open");
    clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.gear.focus();
  }

  // --- form <-> state ---------------------------------------------------------------------

  readForm() {
    const f = this.form.elements;
    const w = {};
    for (const p of PROFILES) {
      const checked = this.form.querySelector(`input[name="w_${p}"]:checked`);
      w[p] = checked ? Number(checked.value) : this.desired.profile_weights[p];
    }
    const win = this.form.querySelector('input[name="coverage_window_minutes"]:checked');
    return {
      preset_id: f.preset_id.value,
      coverage_assist: f.coverage_assist.checked,
      coverage_window_minutes: win ? Number(win.value) : this.desired.coverage_window_minutes,
      profile_weights: w,
    };
  }

  render(state) {
    const f = this.form.elements;
    f.preset_id.value = state.preset_id;
    f.coverage_assist.checked = state.coverage_assist;
    for (const r of this.form.querySelectorAll('input[name="coverage_window_minutes"]')) {
      r.checked = Number(r.value) === state.coverage_window_minutes;
    }
    for (const p of PROFILES) {
      for (const r of this.form.querySelectorAll(`input[name="w_${p}"]`)) {
        r.checked = Math.abs(Number(r.value) - state.profile_weights[p]) < 1e-9;
      }
    }
  }

  setEnabled(on) {
    this.fields.disabled = !on;
    this.drawer.classList.toggle("is-disabled", !on);
  }

  say(text, kind = "error") {
    this.message.textContent = text;
    this.message.dataset.kind = kind;
    this.message.hidden = !text;
  }

  // No operator session (never had one, or it ended): controls off, the sign-in link shown.
  signedOut(reason) {
    this.signedIn = false;
    clearInterval(this.pollTimer);
    this.pollTimer = null;
    this.setEnabled(false);
    const signedIn = document.getElementById("operator-in");
    if (signedIn) signedIn.hidden = true;
    document.getElementById("operator-out").hidden = false;
    if (reason) document.getElementById("operator-out-text").textContent = reason;
    document.getElementById("st-backend").textContent = "sign in to see the live status";
  }

  // --- gateway calls through the proxy ------------------------------------------------------

  // GET through the proxy; on a failure the drawer is disabled or told why, and null comes back.
  async getJson(url) {
    if (!this.signedIn) return null;
    let res;
    try {
      res = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
    } catch (_err) {
      this.disable("The web server cannot be reached.");
      return null;
    }
    const { text, json } = await readBody(res);
    if (!res.ok) {
      this.failed(res.status, json);
      return null;
    }
    return { res, text, json };
  }

  async loadControl() {
    const got = await this.getJson(CONTROL_URL);
    if (got === null) {
      return;
    }
    const { res, text, json } = got;
    this.accept(json, res.headers.get("ETag"), text);
    if (this.disabledReason !== null) {
      this.disabledReason = null;
      this.say("");
    }
    this.setEnabled(true);
  }

  // adopt: also show it in the form (false while local edits wait to be sent).
  accept(control, etag, text, adopt = !this.inFlight && this.timer === null) {
    this.confirmed = editable(control);
    this.etag = etag;
    const seed = seedText(text);
    if (seed !== null) document.getElementById("st-seed").textContent = seed;
    if (adopt) {
      this.desired = this.confirmed;
      this.render(this.desired);
    }
  }

  onEdit() {
    if (!this.confirmed) return;
    this.desired = this.readForm();          // optimistic: the form already shows it
    this.saveState.textContent = "editing…";
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, DEBOUNCE_MS);
  }

  async flush() {
    if (this.inFlight) {
      this.dirty = true;
      return;
    }
    if (same(this.desired, this.confirmed)) {
      this.saveState.textContent = "saved";
      return;
    }
    this.inFlight = true;
    this.dirty = false;
    this.puts += 1;
    this.saveState.textContent = "saving…";
    const headers = { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": this.csrf };
    if (this.etag) headers["If-Match"] = this.etag;
    let res = null;
    let body = { text: "", json: null };
    try {
      res = await fetch(CONTROL_URL, { method: "PUT", headers, body: JSON.stringify(this.desired) });
      body = await readBody(res);
    } catch (_err) {
      res = null;
    }
    this.inFlight = false;
    if (res && res.ok) {
      this.accept(body.json, res.headers.get("ETag"), body.text, !this.dirty && this.timer === null);
      this.say("");
      this.saveState.textContent = `saved ${timeNY(Date.now())}`;
      this.pollStatus();
      if (this.dirty) this.flush();
      return;
    }
    // A failed write discards edits queued behind it: they were made on top of it.
    this.dirty = false;
    clearTimeout(this.timer);
    this.timer = null;
    if (res && res.status === 412 && body.json && body.json.control) {
      // Someone else wrote first: show their state, keep ours unsent.
      this.accept(body.json.control, res.headers.get("ETag") || `"${body.json.revision}"`, body.text, true);
      const by = body.json.control.updated_by ? ` by ${body.json.control.updated_by}` : "";
      this.say(`The controls were changed elsewhere${by}; their values are shown and your change was not applied.`, "conflict");
      this.saveState.textContent = "conflict";
      this.pollStatus();
      return;
    }
    // Any other failure: roll back to the last acknowledged state and say why.
    this.desired = this.confirmed;
    this.render(this.desired);
    this.saveState.textContent = "not saved";
    if (!res) {
      this.say("Change not saved: the web server cannot be reached.");
      return;
    }
    this.failed(res.status, body.json, "Change not saved: ");
  }

  failed(status, json, prefix = "") {
    const reason = (json && (json.disabled_reason || json.message)) || `HTTP ${status}`;
    if (status === 401 && json && json.error === "sign_in_required") {
      this.signedOut("Your operator session has ended.");
      this.say(`${prefix}Sign in again to change the market (401).`, "disabled");
    } else if (status === 404) this.disable(`${prefix}Simulator control is turned off on the backend (404).`);
    else if (status === 409) this.disable(`${prefix}${reason} (409)`);
    else if (status === 503) this.disable(`${prefix}Backend unavailable: ${reason} (503)`);
    else if (status === 401) this.disable(`${prefix}The web server's admin token was refused (401).`);
    else this.say(`${prefix}${reason} (${status})`);
  }

  disable(reason) {
    this.disabledReason = reason;
    this.setEnabled(false);
    this.say(reason, "disabled");
    document.getElementById("st-backend").textContent = reason;
  }

  async pollStatus() {
    const got = await this.getJson(STATUS_URL);
    if (got === null) {
      return;
    }
    const { text, json } = got;
    this.renderStatus(json, text);
    if (!json.enabled) {
      this.disable(`${json.disabled_reason || "synthetic control is unavailable"} (409)`);
      return;
    }
    const settled = !this.inFlight && this.timer === null;
    const stale = this.confirmed && json.control && !same(editable(json.control), this.confirmed);
    // Recover from a disabled state, or pick up a change another operator made.
    if (settled && (this.disabledReason !== null || !this.confirmed || stale)) this.loadControl();
  }

  renderStatus(s, text) {
    const set = (id, v) => { document.getElementById(id).textContent = v; };
    const d = s.derived || {};
    const c = s.control || {};
    set("st-backend", `${s.backend_mode}${s.enabled ? "" : " · control off"}${s.disabled_reason ? ` · ${s.disabled_reason}` : ""}`);
    set("st-regime", label(d.regime));
    set("st-phase", label(d.session_phase));
    set("st-focus", (d.focus_symbols || []).join(" ") || "—");
    set("st-preset", label(c.preset_id));
    set("st-assist", c.coverage_assist === undefined ? "—" : c.coverage_assist ? "on" : "off");
    set("st-window", c.coverage_window_minutes ? `${c.coverage_window_minutes}m` : "—");
    const seed = seedText(text);
    if (seed !== null) set("st-seed", seed);
    set("st-updated", c.updated_at ? `${c.updated_at.replace("T", " ").replace("Z", "")}${c.updated_by ? ` · ${c.updated_by}` : ""}` : "—");
    const hits = d.profile_hit_counts || {};
    for (const tr of document.querySelectorAll("#st-hits tbody tr")) {
      const p = tr.dataset.profile;
      tr.querySelector(".hit").textContent = p in hits ? String(hits[p]) : "—";
      tr.querySelector(".wt").textContent = c.profile_weights ? weightName(Number(c.profile_weights[p])) : "—";
    }
  }
}
