// Toasts: the live region #toasts (templates/base.html) and the toasts in it, those the server sends
// (templates/_toast.html: flashed messages, an Undo after a removal) and those made here from the
// page's <template id="toast-template"> (the same macro). A toast goes after a while; one with a
// button (Undo) stays a little longer, and goes when its button's answer is in. htmx's errors become
// toasts too.
const TOAST_SECONDS = 8;

export function toast(message, kind) {
  const box = document.getElementById("toasts");
  const template = document.getElementById("toast-template");
  if (!box || !template) return;
  const item = template.content.firstElementChild.cloneNode(true);
  if (kind) item.classList.add(`toast-${kind}`);
  item.querySelector(".toast-text").textContent = message;
  box.appendChild(item);
}

function scheduleRemoval(item) {
  if (item.dataset.timed) return;
  item.dataset.timed = "1";
  const seconds = item.querySelector("button:not(.toast-close)") ? TOAST_SECONDS + 4 : TOAST_SECONDS;
  setTimeout(() => item.remove(), seconds * 1000);
}

// A modal dialog makes the rest of the page inert, and draws above it: while one is open the toasts
// live inside it (last, so above its content), and go back to the body when it closes.
export function toastsInto(container) {
  const box = document.getElementById("toasts");
  if (box && container && box.parentElement !== container) container.appendChild(box);
}

const box = document.getElementById("toasts");
if (box) {
  box.querySelectorAll(".toast").forEach(scheduleRemoval);
  new MutationObserver(() => box.querySelectorAll(".toast").forEach(scheduleRemoval)).observe(box, { childList: true });
}

document.addEventListener("click", (event) => {
  const close = event.target.closest && event.target.closest(".toast-close");
  if (close) close.closest(".toast").remove();
});

// A toast's button (Undo) takes the toast away once its answer is in: removed earlier, the button
// would be outside the page when the answer comes, and its out-of-band rows would miss the extension
// on <body> that places them.
document.addEventListener("htmx:afterRequest", (event) => {
  const source = event.detail.elt;
  const item = source && source.closest && source.closest(".toast");
  if (item) item.remove();
});

document.addEventListener("htmx:responseError", (event) => {
  const text = (event.detail.xhr && event.detail.xhr.responseText) || "";
  toast(text && !text.trim().startsWith("<") ? text : "Something went wrong. Please try again.", "error");
});
document.addEventListener("htmx:sendError", () => toast("The server could not be reached. Check your connection.", "error"));
