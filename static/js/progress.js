// The Activity panel #upload-panel (templates/base.html): its rows (#operation-list, rows from
// templates/progress/_operation.html), the connection label #connection-state, Collapse and Clear
// finished. Progress comes as server-rendered rows over the websocket (htmx's ws extension on the
// panel); without it the panel asks its data-poll-url every few seconds while work is under way.
// On wide screens the open panel is docked beside the content; floating (collapsed, or narrower), it
// keeps room under the content for itself.

const POLL_SECONDS = 3;
export const FINISHED = ["succeeded", "failed", "cancelled"];
const panel = document.getElementById("upload-panel");
const state = { socketOpen: false, refreshTimer: null };

export function operationList() { return document.getElementById("operation-list"); }

// A collapsed panel stays collapsed (its summary line shows): collapsing is the user's choice.
export function showPanel() {
  if (panel) panel.classList.remove("is-empty");
}

function setConnection(open) {
  state.socketOpen = open;
  const label = document.getElementById("connection-state");
  if (label) { label.textContent = open ? "live" : "polling"; label.classList.toggle("offline", !open); }
}

document.addEventListener("htmx:wsOpen", () => setConnection(true));
document.addEventListener("htmx:wsClose", () => setConnection(false));
document.addEventListener("htmx:wsError", () => setConnection(false));
document.addEventListener("htmx:wsAfterMessage", () => {
  const list = operationList();
  if (list && list.children.length) showPanel();
});

// When an operation this page shows as under way finishes, the files changed: the results refetch
// themselves ("media-changed"). For an upload the card is swapped in place too, but a grid refresh
// that started before the file was ready may land after it, so the refetch stays.
function refreshSoon() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => htmx.trigger(document.body, "media-changed"), 50);
}

// Progress fragments name elements by id. A running operation this page has not shown yet (started
// in another tab, or by the response that arrives before its first event) is added at the top of the
// panel; a finished operation or a card that this page does not show is dropped. The extension is on
// <body>: every response that carries rows (the websocket, polling, a bulk start, an undo) goes
// through it, so no out-of-band swap lacks its target.
htmx.defineExtension("progress-fragments", {
  transformResponse(text) {
    const template = document.createElement("template");
    template.innerHTML = text;
    for (const element of Array.from(template.content.children)) {
      const shown = element.id && document.getElementById(element.id);
      if (shown && element.classList.contains("operation") && FINISHED.includes(element.dataset.status) &&
          !FINISHED.includes(shown.dataset.status)) refreshSoon();
      if (!element.id || !element.hasAttribute("hx-swap-oob") || shown) continue;
      if (element.classList.contains("operation") && ["queued", "running"].includes(element.dataset.status)) {
        // A positional out-of-band swap inserts an element's children: wrap the row.
        const wrapper = document.createElement("div");
        wrapper.setAttribute("hx-swap-oob", "afterbegin:#operation-list");
        element.removeAttribute("hx-swap-oob");
        element.replaceWith(wrapper);
        wrapper.appendChild(element);
      } else {
        element.remove();
      }
    }
    return template.innerHTML;
  },
});

// Shows an operation's row (by its id) that this page has not received yet: a finished upload's
// answer names it.
export function fetchOperationRow(operationId) {
  if (operationId && panel) htmx.ajax("GET", `${panel.dataset.operationUrl}${operationId}`, { source: panel, swap: "none" });
}

// Without a websocket, ask for the same fragments every few seconds while work is under way.
function pollWhileOffline() {
  const list = operationList();
  const busy = list && list.querySelector('[data-status="queued"], [data-status="running"]');
  if (panel && !state.socketOpen && busy) htmx.ajax("GET", panel.dataset.pollUrl, { source: panel, swap: "none" });
}

// Floating at the bottom (collapsed, or on a narrower screen), the panel covers the page: keep that
// much room under the content, so the last cards scroll clear of it and a focused control never
// hides behind it (WCAG 2.4.11).
const DOCKED = window.matchMedia("(min-width: 1180px)");
function reservePanelSpace() {
  const docked = panel && DOCKED.matches && !panel.classList.contains("is-collapsed");
  const height = panel && !docked ? panel.getBoundingClientRect().height : 0;
  document.documentElement.style.setProperty("--panel-space", height ? `${Math.ceil(height) + 16}px` : "0px");
}

document.addEventListener("click", (event) => {
  const toggle = event.target.closest && event.target.closest(".panel-toggle");
  if (!toggle || !panel) return;
  const collapsed = panel.classList.toggle("is-collapsed");
  toggle.setAttribute("aria-expanded", String(!collapsed));
  toggle.setAttribute("aria-label", collapsed ? "Expand activity" : "Collapse activity");
});

// Clear finished: the server's finished rows and this browser's finished uploads; the summary line
// (uploads.js) clears itself on the same event.
document.addEventListener("click", (event) => {
  if (!(event.target.closest && event.target.closest('[data-action="clear-finished"]'))) return;
  const list = operationList();
  list.querySelectorAll('[data-status="succeeded"], [data-status="failed"], [data-status="cancelled"]').forEach((row) => row.remove());
  if (!list.children.length) panel.classList.add("is-empty");
  document.dispatchEvent(new CustomEvent("finished-cleared"));
});

if (panel) {
  if ("ResizeObserver" in window) new ResizeObserver(reservePanelSpace).observe(panel);
  DOCKED.addEventListener("change", reservePanelSpace);
  setInterval(pollWhileOffline, POLL_SECONDS * 1000);
}
