// The flow table's DOM: a sortable header and rows built once per event and moved, never rebuilt,
// so a focused ticker button keeps its focus while new events arrive above it.

import { COLUMNS, detailFields } from "./flow_columns.js";

const NARROW_HIDDEN = "col-x";   // the expand column shows only where other columns are hidden

function headerCell(col, onSort) {
  const th = document.createElement("th");
  th.scope = "col";
  th.className = `col-t${col.tier}${col.num ? " num" : ""}`;
  th.dataset.key = col.key;
  if (!col.get) {
    th.textContent = col.label;
    return th;
  }
  const b = document.createElement("button");
  b.type = "button";
  b.className = "sort";
  b.textContent = col.label;
  if (col.title) b.title = col.title;
  const arrow = document.createElement("span");
  arrow.className = "sort-arrow";
  arrow.setAttribute("aria-hidden", "true");
  b.appendChild(arrow);
  b.addEventListener("click", () => onSort(col.key));
  th.appendChild(b);
  th.setAttribute("aria-sort", "none");
  return th;
}

export class FlowTable {
  constructor({ table, onSort, onTicker }) {
    this.table = table;
    this.body = table.querySelector("tbody");
    this.rowsById = new Map();      // event id -> <tr>
    this.details = new Map();       // event id -> expanded detail <tr>
    this.data = new Map();          // event id -> its described row, for the detail view
    this.whyCount = 0;
    const head = table.querySelector("thead tr");
    const x = document.createElement("th");
    x.scope = "col";
    x.className = NARROW_HIDDEN;
    x.innerHTML = '<span class="sr-only">Details</span>';
    head.appendChild(x);
    for (const col of COLUMNS) head.appendChild(headerCell(col, onSort));
    this.body.addEventListener("click", (ev) => {
      const tk = ev.target.closest("button.tk");
      if (tk) {
        onTicker(tk.dataset.symbol, tk);
        return;
      }
      const expand = ev.target.closest("button.expand");
      if (expand) this.toggleDetail(expand.closest("tr"));
    });
  }

  showSort(sort) {
    for (const th of this.table.querySelectorAll("thead th[data-key]")) {
      if (!th.hasAttribute("aria-sort")) continue;
      const on = th.dataset.key === sort.key;
      th.setAttribute("aria-sort", on ? (sort.dir === "asc" ? "ascending" : "descending") : "none");
      th.querySelector(".sort-arrow").textContent = on ? (sort.dir === "asc" ? " ▲" : " ▼") : "";
    }
  }

  rowFor(r) {
    let tr = this.rowsById.get(r.id);
    if (tr) return tr;
    tr = document.createElement("tr");
    tr.className = `ev right-${r.right || "none"}`;
    tr.dataset.eventId = r.id;
    tr.dataset.ts = String(r.ts);
    tr.dataset.premium = String(r.premium);
    tr.dataset.symbol = r.symbol;
    const x = document.createElement("td");
    x.className = NARROW_HIDDEN;
    const expand = document.createElement("button");
    expand.type = "button";
    expand.className = "expand";
    expand.setAttribute("aria-expanded", "false");
    expand.setAttribute("aria-label", `Details of ${r.symbol} ${r.right} ${r.strike}`);
    expand.textContent = "▸";
    x.appendChild(expand);
    tr.appendChild(x);
    for (const col of COLUMNS) {
      const td = document.createElement("td");
      const extra = col.key === "direction" ? ` dir-${r.direction}` : col.key === "premium" && r.premium >= 1e6 ? " big"
        : col.key === "profile" ? ` prof-${r.profile}` : "";
      td.className = `col-t${col.tier}${col.num ? " num" : ""}${col.cls ? ` ${col.cls}` : ""}${extra}`;
      td.appendChild(col.cell(r));
      tr.appendChild(td);
    }
    // The classifier's reason: a tooltip on hover and whenever the row holds focus (CSS), and
    // read out with the ticker button by screen readers.
    if (r.reason) {
      const why = document.createElement("span");
      why.className = "why";
      this.whyCount += 1;
      why.id = `why-${this.whyCount}`;
      why.textContent = (r.repeat ? "Repeat: " : "") + r.reason;
      tr.querySelector("td.dir").appendChild(why);
      tr.querySelector("button.tk").setAttribute("aria-describedby", why.id);
    }
    this.rowsById.set(r.id, tr);
    return tr;
  }

  forget(id) {
    this.rowsById.delete(id);
    this.details.delete(id);
    this.data.delete(id);
  }

  toggleDetail(tr) {
    const id = tr.dataset.eventId;
    const button = tr.querySelector("button.expand");
    if (this.details.has(id)) {
      this.details.get(id).remove();
      this.details.delete(id);
      tr.classList.remove("open");
      button.setAttribute("aria-expanded", "false");
      button.textContent = "▸";
      return;
    }
    const detail = document.createElement("tr");
    detail.className = "detail";
    const td = document.createElement("td");
    td.colSpan = COLUMNS.length + 1;
    const dl = document.createElement("dl");
    for (const [k, v] of detailFields(this.data.get(id))) {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dl.append(dt, dd);
    }
    td.appendChild(dl);
    detail.appendChild(td);
    tr.after(detail);
    this.details.set(id, detail);
    tr.classList.add("open");
    button.setAttribute("aria-expanded", "true");
    button.textContent = "▾";
  }

  // Make the body hold exactly ``rows`` (in order), moving only the rows that must move.
  render(rows, freshIds) {
    const wanted = [];
    for (const r of rows) {
      const tr = this.rowFor(r);
      this.data.set(r.id, r);
      wanted.push(tr);
      const detail = this.details.get(r.id);
      if (detail) wanted.push(detail);
      if (freshIds && freshIds.has(r.id)) {
        tr.classList.add("fresh");
        setTimeout(() => tr.classList.remove("fresh"), 1500);
      }
    }
    let cursor = this.body.firstChild;
    for (const node of wanted) {
      if (node === cursor) cursor = cursor.nextSibling;
      else this.body.insertBefore(node, cursor);
    }
    while (cursor) {
      const next = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
  }
}
