// Alt text of an image, in its details form (templates/library/_details_body.html): the markup this
// module owns is the button[data-use-suggestion] under the alt text field (the field it names with
// aria-controls). Pressing it puts the suggestion made from the file name into the field, to edit
// before saving; the button shows only while the field is empty.

function fieldOf(button) {
  return document.getElementById(button.getAttribute("aria-controls"));
}

document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("button[data-use-suggestion]");
  const field = button && fieldOf(button);
  if (!field) return;
  field.value = button.dataset.useSuggestion;
  field.focus();
  button.hidden = true;
});

document.addEventListener("input", (event) => {
  const field = event.target;
  if (!field.id) return;
  const button = document.querySelector(`button[data-use-suggestion][aria-controls="${CSS.escape(field.id)}"]`);
  if (button) button.hidden = field.value.trim() !== "";
});
