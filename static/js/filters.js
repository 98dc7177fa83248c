// The filter controls (templates/_filters.html: the library's form #filters, the picker's and the
// docked library panel's): the tag field ([data-tag-filter]: its list asked for on change and on
// Enter), the Added control ([data-added-filter]: its choice and its two date fields kept in step),
// the Filters disclosure on a phone ([data-action="toggle-filters"]), the list view's column headers
// (templates/library/_list_columns.html, a[data-sort]: each sets the form's Sort, so the whole
// filter goes), the "/" key to the search field #search, and the library's form set from the address
// after Back or Forward.
import { openDialog } from "./page.js";

// Capture phase: this runs before htmx's own change handler reads the form's values.
document.addEventListener("change", (event) => {
  const field = event.target.closest && event.target.closest("[data-added-filter]");
  if (!field) return;
  const choice = field.querySelector("select[name=added]");
  const dates = field.querySelectorAll("input[type=date]");
  if (event.target === choice) {
    if (choice.value !== "range") dates.forEach((input) => { input.value = ""; });
  } else if ([...dates].some((input) => input.value)) {
    choice.value = "range";
  }
  field.classList.toggle("is-range", choice.value === "range");
}, true);

let sortedColumn = null;

document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest(".list-columns a[data-sort]");
  const form = document.getElementById("filters");
  const sort = form && form.querySelector("select[name=sort]");
  if (!link || !sort || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  sort.value = link.dataset.sort;
  sortedColumn = link.dataset.column;
  sort.dispatchEvent(new Event("change", { bubbles: true }));
});

// The headers are part of the results the sort replaces: focus goes to the same column's new header.
document.addEventListener("htmx:afterSettle", (event) => {
  if (!sortedColumn || !event.detail.target || event.detail.target.id !== "results") return;
  const header = document.querySelector(`.list-columns a[data-column="${sortedColumn}"]`);
  sortedColumn = null;
  if (header) header.focus();
});

// A history snapshot holds the markup as the server sent it, not what the controls were set to since:
// after Back or Forward the controls show the filter in the address again.
function showFilterOf(form, params) {
  for (const control of form.elements) {
    if (!control.name || control.type === "hidden" || control.closest("[data-added-filter]")) continue;
    const value = params.get(control.name) || "";
    if (control.type === "radio") control.checked = control.value === (value || form.querySelector(`[name="${control.name}"]`).value);
    else if (control.tagName === "SELECT") control.value = [...control.options].some((o) => o.value === value) ? value : control.options[0].value;
    else control.value = value;
  }
  const added = form.querySelector("[data-added-filter]");
  if (!added) return;
  const raw = params.get("added") || "";
  const [first, last] = raw.includes("..") ? raw.split("..") : ["", ""];
  added.querySelector("select[name=added]").value = raw.includes("..") ? "range" : raw;
  added.querySelector("input[name=added_from]").value = first;
  added.querySelector("input[name=added_to]").value = last;
  added.classList.toggle("is-range", raw.includes(".."));
}

document.addEventListener("htmx:historyRestore", () => {
  const form = document.getElementById("filters");
  if (form) showFilterOf(form, new URLSearchParams(location.search));
});

// The tag field asks for its list on change and on Enter (Enter may pick a suggestion without a
// change event), through one trigger, "tag-apply changed", so a value is asked for once: leaving the
// field after Enter fires a change that would fetch the same list again and clear a selection made
// since. Enter also submits the form; the tag field's own request stands for that submit.
function applyTag(event) {
  if (event.target.matches && event.target.matches("[data-tag-filter]") && (event.type === "change" || event.key === "Enter")) {
    htmx.trigger(event.target, "tag-apply");
  }
}
document.addEventListener("change", applyTag);
document.addEventListener("keyup", applyTag);
document.addEventListener("htmx:confirm", (event) => {
  const trigger = event.detail.triggeringEvent;
  if (trigger && trigger.type === "submit" && event.detail.elt.matches("[data-filters]") &&
      document.activeElement && document.activeElement.matches("[data-tag-filter]")) event.preventDefault();
});

// On a phone the controls fold behind a "Filters" button.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest && event.target.closest('[data-action="toggle-filters"]');
  if (!toggle) return;
  const expanded = document.getElementById(toggle.getAttribute("aria-controls")).classList.toggle("is-expanded");
  toggle.setAttribute("aria-expanded", String(expanded));
});

document.addEventListener("keydown", (event) => {
  const typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
  if (event.key === "/" && !typing && !openDialog()) {
    const search = document.getElementById("search");
    if (search) { event.preventDefault(); search.focus(); }
  }
});
