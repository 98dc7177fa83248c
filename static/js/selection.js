// The selection of files in the library and the trash: the ticked .select-box inputs of the cards
// (templates/library/_card.html, _trash_row.html) belong to the selection bar's form #bulk-form
// (templates/bulk/_bar.html), which sends them itself; its [data-bulk] buttons select the page, all
// matching files (the filter is sent instead of ids) or nothing, or (on a phone) show its choices.
// Shift+click ticks a range. The
// library's [data-bulk="mode"] button (templates/library/_results.html) turns on selection mode, in
// which a click or tap on a card ticks it instead of opening it; with a mouse, dragging from the
// background of the results draws a rectangle (.rubber-band, templates/library/index.html) that
// selects the cards it touches (Shift or Ctrl/⌘ adds them to the selection). Ids are kept here, so a
// refetched grid shows the same boxes ticked.
import { openDialog, swapTargetId } from "./page.js";
import { showPanel } from "./progress.js";

const selection = { ids: new Set(), all: false, anchor: null, mode: false };

const bulkForm = () => document.getElementById("bulk-form");
const selectBoxes = () => Array.from(document.querySelectorAll('input.select-box[form="bulk-form"]'));

function renderSelection() {
  const form = bulkForm();
  if (!form) return;
  const boxes = selectBoxes();
  const present = new Set(boxes.map((box) => box.value));
  for (const id of Array.from(selection.ids)) if (!present.has(id)) selection.ids.delete(id);
  for (const box of boxes) {
    box.checked = selection.all || selection.ids.has(box.value);
    const item = box.closest("li");
    if (item) item.classList.toggle("is-selected", box.checked);
  }
  form.querySelector("#bulk-all").value = selection.all ? "1" : "0";
  const count = selection.ids.size;
  form.hidden = !selection.all && count === 0;
  if (form.hidden) {
    form.classList.remove("is-expanded");
    form.querySelectorAll('[data-bulk="choices"]').forEach((button) => button.setAttribute("aria-expanded", "false"));
  }
  document.body.classList.toggle("has-selection", !form.hidden);
  document.body.classList.toggle("selecting", selection.mode);
  document.querySelectorAll('[data-bulk="mode"]').forEach((button) => button.setAttribute("aria-pressed", String(selection.mode)));
  const label = document.getElementById("bulk-count");
  if (label && !selection.all) {
    label.textContent = `${count.toLocaleString("en")} selected`;
    label.dataset.all = "0";
  }
}

function clearSelection() {
  selection.ids.clear(); selection.all = false; selection.anchor = null; selection.mode = false;
  renderSelection();
}

// A box ticked or unticked (by a click on it, or on its card in selection mode); Shift extends from
// the last box to this one.
function toggle(box, checked, shiftKey) {
  const boxes = selectBoxes();
  if (selection.all) {  // unticking one file leaves "all matching" for the files on this page
    selection.all = false;
    boxes.forEach((other) => selection.ids.add(other.value));
  }
  if (shiftKey && selection.anchor) {
    const from = boxes.findIndex((other) => other.value === selection.anchor);
    const to = boxes.indexOf(box);
    if (from >= 0 && to >= 0) {
      for (const other of boxes.slice(Math.min(from, to), Math.max(from, to) + 1)) {
        if (checked) selection.ids.add(other.value); else selection.ids.delete(other.value);
      }
    }
  }
  if (checked) selection.ids.add(box.value); else selection.ids.delete(box.value);
  selection.anchor = box.value;
  renderSelection();
}

document.addEventListener("click", (event) => {
  const box = event.target.closest && event.target.closest('input.select-box[form="bulk-form"]');
  if (box) toggle(box, box.checked, event.shiftKey);
});

// Selection mode: a click (or Enter) on a card's link ticks the card instead of opening its details.
// Capture phase, so that htmx's own handler on the link never sees it.
document.addEventListener("click", (event) => {
  if (!selection.mode) return;
  const link = event.target.closest && event.target.closest(".media-card .card-link");
  const box = link && link.closest(".media-card").querySelector('input.select-box[form="bulk-form"]');
  if (!box) return;
  event.preventDefault();
  event.stopPropagation();
  toggle(box, !box.checked, event.shiftKey);
}, true);

document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("[data-bulk]");
  if (!button) return;
  const what = button.dataset.bulk;
  if (what === "choices") {  // a phone's bar keeps its choices behind "Actions"
    const expanded = bulkForm().classList.toggle("is-expanded");
    button.setAttribute("aria-expanded", String(expanded));
    return;
  }
  if (what === "mode") {
    selection.mode = !selection.mode;
    if (!selection.mode) { clearSelection(); return; }
  }
  if (what === "page") { selection.all = false; selectBoxes().forEach((box) => selection.ids.add(box.value)); }
  if (what === "matching") { selection.all = true; selectBoxes().forEach((box) => selection.ids.add(box.value)); }
  if (what === "clear") { clearSelection(); return; }
  renderSelection();
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !openDialog() && (selection.all || selection.ids.size || selection.mode)) clearSelection();
});

// A new filter is a new list: the selection of the old one would act on files no longer shown.
// (Only a request for the list: the tag field's suggestions come from the filters too.)
document.addEventListener("htmx:beforeRequest", (event) => {
  const source = event.detail.elt;
  if (source && source.closest && source.closest("#filters") && swapTargetId(event) === "results") {
    const mode = selection.mode;
    clearSelection();
    selection.mode = mode;  // choosing in another list goes on
  }
});
document.addEventListener("htmx:afterSettle", () => renderSelection());

// Boxes ticked before this module ran (a page shown before its scripts arrived, or a form the browser
// restored after Back) are part of the selection.
selectBoxes().forEach((box) => { if (box.checked) selection.ids.add(box.value); });
renderSelection();
document.addEventListener("bulk-started", () => { clearSelection(); showPanel(); });

// ---- rubber-band selection ------------------------------------------------------------------------
// Only from the background of the results (not from a card, a control or text), only with a mouse,
// and only once the pointer has moved a few pixels. Page coordinates, so the rectangle stays put when
// the page scrolls under it (near the window's top or bottom edge it scrolls by itself).
const BACKGROUND = "#results, .results-bar, #media-items";
const band = { start: null, base: null, element: null, moved: false, lastEvent: null };

function bandRect(event) {
  const x = event.clientX + window.scrollX, y = event.clientY + window.scrollY;
  return { left: Math.min(x, band.start.x), top: Math.min(y, band.start.y),
           right: Math.max(x, band.start.x), bottom: Math.max(y, band.start.y) };
}

function drawBand(event) {
  const rect = bandRect(event);
  Object.assign(band.element.style, { left: `${rect.left}px`, top: `${rect.top}px`,
                                      width: `${rect.right - rect.left}px`, height: `${rect.bottom - rect.top}px` });
  selection.ids = new Set(band.base);
  for (const box of selectBoxes()) {
    const card = box.closest(".media-card");
    const r = card && card.getBoundingClientRect();
    if (!r) continue;
    const touches = r.right + window.scrollX >= rect.left && r.left + window.scrollX <= rect.right &&
                    r.bottom + window.scrollY >= rect.top && r.top + window.scrollY <= rect.bottom;
    if (touches) selection.ids.add(box.value);
  }
  renderSelection();
}

function endBand() {
  if (band.element) band.element.hidden = true;
  document.body.classList.remove("is-banding");
  band.start = null;
}

document.addEventListener("pointerdown", (event) => {
  if (event.pointerType !== "mouse" || event.button !== 0 || !event.target.matches || !event.target.matches(BACKGROUND)) return;
  band.element = document.getElementById("rubber-band");
  if (!band.element || !bulkForm()) return;
  event.preventDefault();  // no text selection while drawing
  band.start = { x: event.clientX + window.scrollX, y: event.clientY + window.scrollY, pointer: event.pointerId };
  band.base = event.shiftKey || event.ctrlKey || event.metaKey ? new Set(selection.ids) : new Set();
  band.moved = false;
  event.target.setPointerCapture(event.pointerId);
});

document.addEventListener("pointermove", (event) => {
  if (!band.start || event.pointerId !== band.start.pointer) return;
  const far = Math.abs(event.clientX + window.scrollX - band.start.x) + Math.abs(event.clientY + window.scrollY - band.start.y) > 6;
  if (!band.moved && !far) return;
  if (!band.moved) {
    band.moved = true;
    selection.all = false;
    band.element.hidden = false;
    document.body.classList.add("is-banding");
  }
  if (event.clientY > window.innerHeight - 40) window.scrollBy(0, 24);
  else if (event.clientY < 40) window.scrollBy(0, -24);
  drawBand(event);
});

document.addEventListener("pointerup", (event) => {
  if (!band.start || event.pointerId !== band.start.pointer) return;
  if (band.moved) {
    const boxes = selectBoxes().filter((box) => selection.ids.has(box.value));
    selection.anchor = boxes.length ? boxes[boxes.length - 1].value : null;
    // The click that ends the drag is not a click on what lies under it.
    const swallow = (click) => { click.stopPropagation(); click.preventDefault(); };
    document.addEventListener("click", swallow, { capture: true, once: true });
    setTimeout(() => document.removeEventListener("click", swallow, true), 0);
  }
  endBand();
});
document.addEventListener("pointercancel", endBand);
