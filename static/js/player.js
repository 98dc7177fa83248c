// The preview player of a file's details (templates/library/_preview.html) and the controls that work
// on it: the Chapters section's markers (button[data-seek] in .marker, templates/video/_chapters.html)
// seek the player and the marker playing now is marked aria-current; a button[data-use-current-time]
// puts the player's current time, as m:ss, into the field it names (a chapter's time, a trim's Start
// and End); button[data-phone-preview] shows the preview it names in a phone-sized frame (390 × 844,
// the class "phone-frame"), as a student on a phone sees it, and the choice is remembered.

function playerNear(element) {
  const scope = element.closest("#details-body") || document;
  return scope.querySelector(".preview video, .preview audio");
}

function clock(seconds) {
  const whole = Math.floor(seconds);
  const tenths = Math.floor((seconds - whole) * 10);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, "0");
  const fraction = tenths ? `.${tenths}` : "";
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}${fraction}` : `${minutes}:${rest}${fraction}`;
}

document.addEventListener("click", (event) => {
  const seek = event.target.closest && event.target.closest("button[data-seek]");
  if (seek) {
    const player = playerNear(seek);
    if (!player) return;
    player.currentTime = Number(seek.dataset.seek);
    player.play().catch(() => {});  // a browser that wants a gesture on the player itself: it is seeked
    return;
  }
  const use = event.target.closest && event.target.closest("button[data-use-current-time]");
  if (use) {
    const player = playerNear(use);
    const field = document.getElementById(use.dataset.useCurrentTime);
    if (!player || !field) return;
    field.value = clock(player.currentTime);
    field.focus();
  }
});

const PHONE_KEY = "mediamgr.phonePreview";

function showAsPhone(button, on) {
  const preview = document.getElementById(button.dataset.phonePreview);
  if (!preview) return;
  preview.classList.toggle("phone-frame", on);
  button.setAttribute("aria-pressed", String(on));
}

document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("button[data-phone-preview]");
  if (!button) return;
  const on = button.getAttribute("aria-pressed") !== "true";
  showAsPhone(button, on);
  try { localStorage.setItem(PHONE_KEY, on ? "1" : ""); } catch { /* private mode: not remembered */ }
});

// A details body swapped in (the dialog opening, an edit's answer) keeps the phone frame if it was on.
document.addEventListener("htmx:afterSettle", () => {
  let on = false;
  try { on = localStorage.getItem(PHONE_KEY) === "1"; } catch { /* private mode */ }
  if (on) document.querySelectorAll("button[data-phone-preview]").forEach((button) => showAsPhone(button, true));
});

// The marker whose chapter is playing: the last one at or before the player's time.
document.addEventListener("timeupdate", (event) => {
  const player = event.target;
  if (!player.matches || !player.matches(".preview video")) return;
  const scope = player.closest("#details-body") || document;
  const markers = Array.from(scope.querySelectorAll(".marker[data-seconds]"));
  const playing = markers.filter((marker) => Number(marker.dataset.seconds) <= player.currentTime + 0.05).pop();
  markers.forEach((marker) => {
    if (marker === playing) marker.setAttribute("aria-current", "true");
    else marker.removeAttribute("aria-current");
  });
}, true);
