// The dialog of the page: whatever the server swaps into #dialog-root (templates/base.html) as a
// <dialog> (a file's details, a bulk action's question, the picker, Add to course…) is shown modal;
// [data-action="close-dialog"] buttons, Escape, a click on the backdrop and the "close-dialog" event
// close it. A dialog opened with a URL of its own (hx-push-url: a file's details) closes by going back
// in history; focus then returns to what opened it, also when the results were refreshed meanwhile
// (the same control of the card with the same id).
import { openDialog, swapTargetId } from "./page.js";
import { toastsInto } from "./toasts.js";

const state = { openedWithPush: false, opener: null, resultsFocus: null };

// What opened the dialog: the element itself, or (when it was swapped meanwhile, a card after an
// edit) the element now under the same id's holder.
function rememberOpener(opener) {
  const holder = opener && opener.closest && opener.closest("[id]");
  state.opener = opener ? { element: opener, holder: holder ? holder.id : "" } : null;
}

function restoreFocus() {
  const opener = state.opener;
  state.opener = null;
  if (!opener) return;
  let target = opener.element && opener.element.isConnected ? opener.element : null;
  if (!target && opener.holder) {
    const holder = document.getElementById(opener.holder);
    target = holder && (holder.querySelector(".card-link, a[href], button") || holder);
  }
  if (target && typeof target.focus === "function") target.focus();
}

export function closeDialog(fromHistory) {
  const dialog = openDialog();
  if (!dialog) return;
  toastsInto(document.body);
  if (dialog.open) dialog.close();
  dialog.remove();
  if (!fromHistory && state.openedWithPush) {
    state.openedWithPush = false;
    history.back();  // htmx restores the page's snapshot, then focus goes back (htmx:historyRestore)
    return;
  }
  state.openedWithPush = false;
  restoreFocus();
}

// A swap into the dialog's place (another dialog replacing this one) would take the toasts with it.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (swapTargetId(event) === "dialog-root") toastsInto(document.body);
});

document.addEventListener("htmx:afterSwap", (event) => {
  if (swapTargetId(event) !== "dialog-root") return;
  const dialog = openDialog();
  if (!dialog) return;
  state.openedWithPush = location.pathname === dialog.dataset.url;
  const opener = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (!state.opener || (opener && opener !== document.body)) rememberOpener(opener || document.activeElement);
  dialog.addEventListener("close", () => closeDialog(false), { once: true });
  dialog.addEventListener("click", (clickEvent) => { if (clickEvent.target === dialog) closeDialog(false); });
  dialog.showModal();
  toastsInto(dialog);
});

document.addEventListener("close-dialog", () => closeDialog(false));
document.addEventListener("click", (event) => {
  if (event.target.closest && event.target.closest('[data-action="close-dialog"]')) closeDialog(false);
});

// A refresh of the results (after an edit, a restore from history) replaces the focused card: focus
// goes to the same control of the card with the same id in the new results.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (swapTargetId(event) !== "results") return;
  const active = document.activeElement;
  const holder = active && active !== document.body && active.closest && active.closest(".media-card[id]");
  state.resultsFocus = holder ? { holder: holder.id, className: active.className } : null;
});
document.addEventListener("htmx:afterSettle", (event) => {
  if (swapTargetId(event) !== "results" || !state.resultsFocus) return;
  const { holder, className } = state.resultsFocus;
  state.resultsFocus = null;
  const card = document.getElementById(holder);
  const target = card && ((className && card.querySelector("." + className.split(" ")[0])) || card.querySelector(".card-link"));
  if (target && document.activeElement === document.body) target.focus();
});

document.addEventListener("htmx:historyRestore", () => {
  closeDialog(true);
  restoreFocus();
  // A restored snapshot can be older than the data: fetch the results again.
  htmx.trigger(document.body, "media-changed");
});
