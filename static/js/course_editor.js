// The course editor (templates/courses/edit.html): the chapter list #chapters (its items' titles
// edited in place, Alt+Up/Down, drag and drop with SortableJS, focus kept across its swaps; files
// dragged in from the docked library panel #library-panel), and the selection of items (.item-select
// boxes, the #item-selection bar). The rows' actions menus are menus.js. URLs come from the markup
// (hx-* and data-order-url / data-link-url); the server renders every piece of HTML. "Upload new"
// shows each file in its chapter (the #upload-placeholder template) with the progress of its row in
// the Activity panel (#operation-list), until it is linked there.
import { openDialog, swapTargetId } from "./page.js";
import { toast } from "./toasts.js";
import { FINISHED } from "./progress.js";
import { describeMenus, ensureMenu, shortcutClick } from "./menus.js";

// ---- the items' actions menus ---------------------------------------------------------------------
// Made when first opened from the page's #item-menu-template: the item's id, and no Move up for the
// first item of a chapter, no Move down for the last, no Move to chapter… in a course of one chapter.
describeMenus("item-menu-template", (button) => {
  const row = button.closest(".chapter-item");
  const isItem = (element) => !!element && element.matches(".chapter-item");
  const leaveOut = [];
  if (!isItem(row.previousElementSibling)) leaveOut.push("first");
  if (!isItem(row.nextElementSibling)) leaveOut.push("last");
  if (document.querySelectorAll("#chapters .chapter").length < 2) leaveOut.push("single");
  return { values: { id: row.dataset.itemId }, leaveOut };
});

// ---- titles edited in place, Alt+Up / Alt+Down ------------------------------------------------
// Enter or leaving the field saves, Escape puts the old title back. Alt+Up / Alt+Down move the item
// (its menu's Move up / Move down); focus stays in the title, so the keys can be pressed again.
document.addEventListener("keydown", (event) => {
  const title = event.target.closest && event.target.closest(".item-title");
  if (title && event.key === "Escape") {
    event.preventDefault(); event.stopPropagation();
    title.value = title.dataset.saved; title.blur();
    return;
  }
  const item = event.target.closest && event.target.closest(".chapter-item");
  if (item && event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
    const menu = ensureMenu(item.querySelector(".menu-button"));
    const button = menu && menu.querySelector(`button[name="direction"][value="${event.key === "ArrowUp" ? "up" : "down"}"]`);
    if (button) {
      event.preventDefault();
      shortcutClick(button);
    }
  }
}, true);

// The chapter list refetches itself when files change (an upload linked to a chapter, an Undo). While
// a text field there holds unsaved typing, the refetch is not sent, and one already on its way is not
// placed: it would put the old text back (and Enter would then save that). A later edit's answer (the
// whole list) makes up for it; if the field is left without saving, the list is asked for then.
let refreshHeldBack = false;
function typingInChapters() {
  const field = document.activeElement;
  const list = document.getElementById("chapters");
  return !!field && !!list && list.contains(field) && field.matches('input[type="text"]') &&
    field.value !== (field.dataset.saved ?? field.defaultValue);
}
document.addEventListener("htmx:beforeRequest", (event) => {
  const source = event.detail.elt;
  if (!source || source.id !== "chapters" || event.detail.requestConfig.verb !== "get" || !typingInChapters()) return;
  event.preventDefault();
  refreshHeldBack = true;
});
document.addEventListener("htmx:beforeSwap", (event) => {
  if (swapTargetId(event) !== "chapters" || event.detail.requestConfig.verb !== "get" || !typingInChapters()) return;
  event.detail.shouldSwap = false;
  refreshHeldBack = true;
});

document.addEventListener("focusout", (event) => {
  const title = event.target.closest && event.target.closest(".item-title");
  if (title && title.value !== title.dataset.saved) {
    if (title.value.trim()) { htmx.trigger(title.form, "submit"); return; }  // its answer is the whole list
    title.value = title.dataset.saved; toast("An item title can't be empty.", "error");
  }
  if (!refreshHeldBack || !event.target.closest || !event.target.closest("#chapters")) return;
  refreshHeldBack = false;
  setTimeout(() => htmx.trigger(document.getElementById("chapters"), "chapters-stale"), 0);
});

// Every answer about the chapter list is all of it, rendered when its edit was saved. When edits
// overlap (a title saved while another is on its way), an answer rendered before the other edit was
// saved can arrive last and put the old text back: once the last of them is in, the list is asked for
// again ("chapters-stale"), so it shows what the server holds. (After the guard above: a refetch it
// stops is never sent.)
const overlap = { inFlight: 0, seen: false };
document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.defaultPrevented || swapTargetId(event) !== "chapters") return;
  refreshHeldBack = false;
  overlap.seen = overlap.seen || overlap.inFlight > 0;
  overlap.inFlight += 1;
  event.detail.xhr.addEventListener("loadend", () => {  // also for an answer htmx no longer places
    overlap.inFlight -= 1;
    if (overlap.inFlight || !overlap.seen) return;
    overlap.seen = false;
    setTimeout(() => htmx.trigger(document.getElementById("chapters"), "chapters-stale"), 0);
  });
});

// ---- focus across the chapter list's swaps ------------------------------------------------------
// After the list (or some of its chapters) is swapped in again, focus returns to the same control
// of the same item or chapter: its title field, or its menu's button after a menu action.
let focusToRestore = null;
document.addEventListener("htmx:beforeSwap", (event) => {
  if (swapTargetId(event) !== "chapters") return;
  const active = document.activeElement;
  const holder = active && active.closest && active.closest(".chapter-item, .chapter");
  focusToRestore = holder && { holder: holder.id, name: active.name || "", tag: active.tagName,
                               menu: !!active.closest(".row-menu"), box: active.classList.contains("item-select") };
});
document.addEventListener("htmx:afterSettle", (event) => {
  if (swapTargetId(event) !== "chapters" || !focusToRestore) return;
  const { holder: holderId, name, tag, menu, box } = focusToRestore;
  focusToRestore = null;
  const holder = document.getElementById(holderId);
  if (!holder) return;
  const own = (selector) => Array.from(holder.querySelectorAll(selector)).find((element) =>
    element.closest(".chapter-item, .chapter") === holder);
  const same = menu ? own(".menu-button") : box ? own(".item-select") : own(`${tag.toLowerCase()}[name="${name}"]`);
  (same || own(".menu-button") || own("input, button")).focus();
});

// ---- drag and drop ---------------------------------------------------------------------------
// Dropping an item sends the whole new order of the chapter it lands in, in one request; an item
// from another chapter moves with it.
function makeSortable() {
  if (!window.Sortable) return;
  // The docked library panel (wide screens): its files are copied out (the panel keeps them) and
  // dropped into a chapter, which links the file at its end (the picker's route).
  document.querySelectorAll("#library-panel .panel-list").forEach((list) => {
    if (list.dataset.sortable) return;
    list.dataset.sortable = "1";
    Sortable.create(list, {
      group: { name: "chapter-items", pull: "clone", put: false }, sort: false, draggable: ".panel-file",
      animation: 120, forceFallback: true,
      onEnd(event) {
        const target = event.to;
        if (!target.dataset.linkUrl) return;
        event.item.remove();  // the chapter's answer brings the new item
        htmx.ajax("POST", target.dataset.linkUrl, { source: target, target: "#chapters", swap: "outerHTML",
                                                   values: { media: event.item.dataset.mediaId } });
      },
    });
  });
  document.querySelectorAll("#chapters .item-list").forEach((list) => {
    if (list.dataset.sortable) return;
    list.dataset.sortable = "1";
    Sortable.create(list, {
      group: "chapter-items", handle: ".drag-handle", animation: 120, forceFallback: true,
      onEnd(event) {
        const target = event.to;
        if (event.from === target && event.oldIndex === event.newIndex) return;
        const values = { item: Array.from(target.querySelectorAll(":scope > .chapter-item")).map((li) => li.dataset.itemId) };
        htmx.ajax("POST", target.dataset.orderUrl, { source: target, target: "#chapters", swap: "outerHTML", values });
      },
    });
  });
}

// ---- the selection of items --------------------------------------------------------------------
// Ticked items are kept by id, so the boxes of a chapter swapped in again show the same ticks;
// Shift+click ticks (or unticks) the range from the last box clicked. The bar's buttons send the
// ticked boxes themselves (hx-include).
const selection = { ids: new Set(), anchor: null };
const boxes = () => Array.from(document.querySelectorAll("#chapters .item-select"));

function renderSelection() {
  const bar = document.getElementById("item-selection");
  if (!bar) return;
  const all = boxes();
  const present = new Set(all.map((box) => box.value));
  for (const id of Array.from(selection.ids)) if (!present.has(id)) selection.ids.delete(id);
  for (const box of all) {
    box.checked = selection.ids.has(box.value);
    box.closest(".chapter-item").classList.toggle("is-selected", box.checked);
  }
  const count = selection.ids.size;
  bar.hidden = count === 0;
  bar.querySelector("#item-selection-count").textContent = `${count.toLocaleString("en")} selected`;
}

function clearSelection() {
  selection.ids.clear(); selection.anchor = null;
  renderSelection();
}

document.addEventListener("click", (event) => {
  const box = event.target.closest && event.target.closest("#chapters .item-select");
  if (box) {
    const all = boxes();
    const from = all.findIndex((other) => other.value === selection.anchor);
    if (event.shiftKey && from >= 0) {
      const to = all.indexOf(box);
      for (const other of all.slice(Math.min(from, to), Math.max(from, to) + 1)) {
        if (box.checked) selection.ids.add(other.value); else selection.ids.delete(other.value);
      }
    }
    if (box.checked) selection.ids.add(box.value); else selection.ids.delete(box.value);
    selection.anchor = box.value;
    renderSelection();
    return;
  }
  if (event.target.closest && event.target.closest('[data-selection="clear"]')) clearSelection();
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !openDialog() && selection.ids.size && !event.defaultPrevented) clearSelection();
});
document.addEventListener("items-done", clearSelection);  // moved, copied or added: the selection is done with
boxes().forEach((box) => { if (box.checked) selection.ids.add(box.value); });  // ticked before this ran
renderSelection();

// ---- "Upload new": the uploading files in their chapters ----------------------------------------
// FINISHED: a row that says "duplicate" is not, it waits for Use existing or Keep both.
const uploading = [];  // {chapterId, name, element}

function panelRow(name) {
  return Array.from(document.querySelectorAll("#operation-list > li")).find((row) => {
    const title = row.querySelector(".op-title");
    return title && title.textContent.trim() === name;
  });
}

function renderUploads() {
  for (const entry of uploading.slice()) {
    const list = document.querySelector(`#chapter-${entry.chapterId} .item-list`);
    if (list && !list.contains(entry.element)) list.append(entry.element);
    const row = panelRow(entry.name);
    if (!row) continue;
    const bar = row.querySelector("progress");
    const stage = row.querySelector(".op-stage");
    if (bar) entry.element.querySelector("progress").value = bar.value;
    if (stage) entry.element.querySelector(".op-stage").textContent = stage.textContent.trim();
    if (FINISHED.includes(row.dataset.status)) {
      // Linked: the chapter list refetches itself (media-changed) and shows the item. Not uploaded:
      // the stage says so for a moment, the panel keeps the reason.
      uploading.splice(uploading.indexOf(entry), 1);
      setTimeout(() => entry.element.remove(), row.dataset.status === "succeeded" ? 0 : 6000);
    }
  }
}

document.addEventListener("change", (event) => {
  const picker = event.target.closest && event.target.closest("input.chapter-upload");
  const template = document.getElementById("upload-placeholder");
  if (!picker || !template) return;
  for (const file of Array.from(picker.files)) {
    const element = template.content.firstElementChild.cloneNode(true);
    element.querySelector(".upload-name").textContent = file.name;
    element.querySelector("progress").setAttribute("aria-label", `Upload progress of ${file.name}`);
    uploading.push({ chapterId: picker.dataset.chapterId, name: file.name, element });
  }
  renderUploads();
}, true);  // before uploads.js queues the files (and empties the field)

const activity = document.getElementById("operation-list");
if (activity) {
  new MutationObserver(renderUploads).observe(activity, { childList: true, subtree: true, attributes: true,
                                                          attributeFilter: ["value", "data-status"], characterData: true });
}

document.addEventListener("htmx:afterSettle", () => { makeSortable(); renderSelection(); renderUploads(); });
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", makeSortable);
else makeSortable();
