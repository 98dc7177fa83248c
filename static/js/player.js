// The preview player of a file's details (templates/library/_preview.html) and the controls that work
// on it: the Chapters section's markers (button[data-seek] in .marker, templates/video/_chapters.html)
// seek the player and the marker playing now is marked aria-current; a button[data-use-current-time]
// puts the player's current time, as m:ss, into the field it names (a chapter's time, a trim's Start
// and End).

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
