// Dropping files anywhere on a page that can upload (one with the library's #upload-form): the
// overlay #drop-overlay (templates/base.html) shows while files are dragged over the page, and says
// how many of them will be refused for their type; dropped files go to uploads.js.
import { queueFiles } from "./uploads.js";

const overlay = document.getElementById("drop-overlay");

// Before the drop, a browser tells each dragged file's MIME type (not its name or size): the overlay
// says how many will be refused for their type. A type it does not tell ("") is left to the server.
function describeDrag(transfer) {
  const accepted = (overlay.dataset.acceptTypes || "").split(",");
  const takes = (type) => accepted.some((rule) => (rule.endsWith("/*") ? type.startsWith(rule.slice(0, -1)) : rule === type));
  const files = Array.from(transfer.items || []).filter((item) => item.kind === "file");
  const refused = files.filter((item) => item.type && !takes(item.type));
  const note = overlay.querySelector("#drop-refused");
  const count = (n) => (n === 1 ? "1 file" : `${n} files`);
  overlay.querySelector("#drop-title").textContent = files.length > 1 ? `Drop ${count(files.length)} to upload` : "Drop files to upload";
  note.hidden = !refused.length;
  if (!refused.length) return;
  const types = Array.from(new Set(refused.map((item) => item.type))).join(", ");
  note.textContent = refused.length === files.length
    ? `${refused.length === 1 ? "This file is" : "These files are"} of a type the library does not take (${types}): ${refused.length === 1 ? "it" : "they"} will be refused.`
    : `${count(refused.length)} of ${files.length} ${refused.length === 1 ? "is" : "are"} of a type the library does not take (${types}) and will be refused; the others go up.`;
}

if (overlay && document.getElementById("upload-form")) {
  let depth = 0;
  const carriesFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
  document.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    overlay.hidden = false;
    describeDrag(event.dataTransfer);
  });
  document.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  document.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) overlay.hidden = true;
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    queueFiles(Array.from(event.dataTransfer.files));
  });
}
