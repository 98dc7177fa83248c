// What every component of the page shares, with no markup of its own: the CSRF token htmx sends
// (<body hx-headers>), the page's settings and URLs (data-* attributes of <body>, templates/base.html),
// sizes as people read them, and the element an htmx swap is about.

// Controls that only work with these modules show from here on (app.css: .js, .no-js-only).
document.documentElement.classList.add("js");

export function csrfToken() {
  try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
  catch (error) { return ""; }
}

// A setting the server put on <body>: pageSetting("uploadUrl") reads data-upload-url.
export function pageSetting(name) { return document.body.dataset[name] || ""; }

// Decimal units, as the server's human_size and as storage is billed.
export function humanSize(bytes) {
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let value = bytes, unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

// The id of the element an htmx swap event is about; a history restore's events have none.
export function swapTargetId(event) { return (event.detail && event.detail.target && event.detail.target.id) || ""; }

// The open dialog (details, a bulk action's question, the picker), if any.
export function openDialog() { return document.querySelector("#dialog-root > dialog"); }

// A clone of the first element of a server <template> (by id), or null on a page without it.
export function fromTemplate(id) {
  const template = document.getElementById(id);
  return template ? template.content.firstElementChild.cloneNode(true) : null;
}
