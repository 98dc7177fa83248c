// Sharing files: the markup this module owns.
// - #download-slot (templates/bulk/_bar.html): the selection bar's Download puts a
//   form[data-download-now] there (templates/archive/_download_now.html) for a small selection; it is
//   submitted at once, and the browser saves the zip it answers with without leaving the page.
// - section[data-copy-link] (templates/library/_share_link.html), in a file's details: its
//   [data-copy-button] copies the link held by its [data-copy-source] field to the clipboard and shows
//   the toast of its template[data-copied-toast]; where the clipboard is refused, the
//   [data-copy-fallback] box shows the field with the link selected instead.
// Every URL comes from the server's markup (a form's action, the field's value).

function submitDownloads(root) {
  for (const form of root.querySelectorAll("form[data-download-now]")) {
    form.removeAttribute("data-download-now");
    form.submit();
    form.remove();
  }
}

document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail && event.detail.target;
  if (target && target.id === "download-slot") submitDownloads(target);
});

function showCopied(box) {
  const template = box.querySelector("template[data-copied-toast]");
  const toasts = document.getElementById("toasts");
  if (template && toasts) toasts.appendChild(template.content.cloneNode(true));
}

function showFallback(box, source) {
  const fallback = box.querySelector("[data-copy-fallback]");
  if (fallback) fallback.hidden = false;
  source.focus();
  source.select();
}

async function copyLink(box) {
  const source = box.querySelector("[data-copy-source]");
  if (!source) return;
  try {
    if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard here");
    await navigator.clipboard.writeText(source.value);
  } catch (error) {
    showFallback(box, source);
    return;
  }
  showCopied(box);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("[data-copy-button]");
  const box = button && button.closest("[data-copy-link]");
  if (box) copyLink(box);
});
