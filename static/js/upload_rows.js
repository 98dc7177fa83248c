// One upload's row in the Activity panel (#operation-list): a clone of the server's
// <template id="upload-row-template"> (templates/upload/_row_template.html). The row's state decides
// which of its parts show (those whose data-when names it); [data-fill] parts take a value as text,
// and [data-label] patterns ("Cancel upload of {name}") become aria-labels.
import { fromTemplate } from "./page.js";
import { operationList, showPanel } from "./progress.js";

let counter = 0;

export function fillRow(row, values) {
  for (const [key, value] of Object.entries(values)) {
    row.querySelectorAll(`[data-fill="${key}"]`).forEach((node) => { node.textContent = value; node.title = value; });
  }
  row.querySelectorAll("[data-label]").forEach((node) => {
    node.setAttribute("aria-label", node.dataset.label.replace(/\{(\w+)\}/g, (whole, key) => values[key] ?? whole));
  });
}

// A new row for a chosen file, at the top of the panel.
export function newRow(name) {
  const row = fromTemplate("upload-row-template");
  row.id = `upload-${++counter}`;
  fillRow(row, { name });
  operationList().prepend(row);
  showPanel();
  return row;
}

// States: uploading (waiting, checking, sending), paused, duplicate, succeeded, failed, cancelled.
export function setRow(row, status, stageText) {
  row.dataset.status = status;
  row.className = `operation op-${{ duplicate: "duplicate-found", paused: "paused" }[status] || status}`;
  if (stageText !== undefined) row.querySelector(".op-stage").textContent = stageText;
  row.querySelectorAll("[data-when]").forEach((part) => { part.hidden = !part.dataset.when.split(" ").includes(status); });
}

export function setRowProgress(row, percent, stageText) {
  row.querySelector("progress").value = percent;
  if (stageText !== undefined) row.querySelector(".op-stage").textContent = stageText;
}

export function failRow(row, message) {
  setRow(row, "failed", "Not uploaded");
  setRowProgress(row, 100);
  row.querySelector(".op-error").textContent = message;
}

// The server's row for a finished plain upload (its operation) takes the place of ours, unless the
// websocket brought it already.
export function replaceWithServerRow(row, html) {
  const holder = document.createElement("template");
  holder.innerHTML = html;
  const fresh = holder.content.querySelector(".operation");
  if (fresh && document.getElementById(fresh.id)) {
    row.remove();
  } else if (fresh) {
    fresh.removeAttribute("hx-swap-oob");
    row.replaceWith(fresh);
    htmx.process(fresh);
  }
}

// Several duplicates in one drop: one "Use existing for all (n)" row above the rows
// (<template id="use-all-template">); gone when fewer than two wait.
export function renderUseAll(waiting) {
  const list = operationList();
  if (!list) return;
  let bar = document.getElementById("use-existing-all");
  if (waiting < 2) { if (bar) bar.remove(); return; }
  if (!bar) {
    bar = fromTemplate("use-all-template");
    list.prepend(bar);
  }
  bar.querySelector("button").textContent = `Use existing for all (${waiting})`;
}
