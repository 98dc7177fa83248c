// The filter controls' glue (templates/_filters.html, templates/library/_list_columns.html): the
// Added control ([data-added-filter]: its choice and its two date fields kept in step), the list
// view's column headers (a[data-sort]: each sets the filter form's Sort, so the whole filter goes),
// and the library's filter form (#filters) set from the address after Back or Forward.

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
