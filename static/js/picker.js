// The library picker (templates/courses/_picker.html, "Browse from Library" in the course editor):
// its .pick-box inputs and the form #picker-form, whose #picker-chosen holds one hidden input per
// chosen file, #picker-count says which, and #picker-add adds them. Files are added in the order they
// were ticked, so the ticks are kept in a list here, not read back from the page's order; a new
// filter or "Load more" keeps them.
import { swapTargetId } from "./page.js";

const picked = [];  // {id, name}

function renderPicked() {
  const form = document.getElementById("picker-form");
  if (!form) return;
  form.querySelector("#picker-chosen").replaceChildren(...picked.map(({ id }) =>
    Object.assign(document.createElement("input"), { type: "hidden", name: "media", value: id })));
  const count = picked.length;
  form.querySelector("#picker-count").textContent = count ? `${count} chosen: ${picked.map(({ name }) => name).join(", ")}` : "No files chosen";
  const add = form.querySelector("#picker-add");
  add.disabled = !count;
  add.textContent = count === 0 ? "Add files" : count === 1 ? "Add 1 file" : `Add ${count} files`;
  document.querySelectorAll("#picker-dialog .pick-box").forEach((box) => {
    box.checked = picked.some(({ id }) => id === box.value);
    box.closest("li").classList.toggle("is-picked", box.checked);
  });
}

document.addEventListener("change", (event) => {
  const box = event.target.closest && event.target.closest("#picker-dialog .pick-box");
  if (!box) return;
  const at = picked.findIndex(({ id }) => id === box.value);
  if (box.checked && at < 0) picked.push({ id: box.value, name: box.dataset.name });
  if (!box.checked && at >= 0) picked.splice(at, 1);
  renderPicked();
});

document.addEventListener("htmx:afterSettle", (event) => {
  if (swapTargetId(event) === "dialog-root" && document.getElementById("picker-dialog")) picked.length = 0;  // a new picker
  if (document.getElementById("picker-dialog")) renderPicked();
});
