// The storyboard strip under a video's preview (div.storyboard-strip in templates/library/
// _details_body.html): hovering it shows the frame at that point of the video (a tile of a sprite,
// from the WebVTT thumbnails track its data-storyboard names) with its time, and a click plays from
// there. The native controls stay the keyboard's way through the video; the strip is a mouse and
// touch aid (aria-hidden).

const boards = new WeakMap();  // strip -> Promise of its cues [{start, end, src, x, y, w, h}]

function seconds(clock) {
  const [hours, minutes, rest] = clock.split(":");
  return Number(hours) * 3600 + Number(minutes) * 60 + Number(rest);
}

async function cuesOf(strip) {
  if (!boards.has(strip)) {
    boards.set(strip, fetch(strip.dataset.storyboard, { credentials: "same-origin" })
      .then((answer) => (answer.ok ? answer.text() : ""))
      .then((text) => text.split(/\n\n+/).map((block) => {
        const lines = block.trim().split("\n");
        const timing = lines.findIndex((line) => line.includes("-->"));
        if (timing < 0 || !lines[timing + 1]) return null;
        const [start, end] = lines[timing].split("-->").map((part) => seconds(part.trim()));
        const [src, box] = lines[timing + 1].split("#xywh=");
        const [x, y, w, h] = box.split(",").map(Number);
        return { start, end, src, x, y, w, h };
      }).filter(Boolean)));
  }
  return boards.get(strip);
}

function clock(value) {
  const whole = Math.floor(value);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function playerOf(strip) {
  const preview = document.getElementById(strip.dataset.player);
  return preview && preview.querySelector("video");
}

async function show(strip, event) {
  const cues = await cuesOf(strip);
  const frame = strip.querySelector(".storyboard-frame");
  if (!cues.length || !frame) return;
  const box = strip.getBoundingClientRect();
  const fraction = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
  const at = fraction * cues[cues.length - 1].end;
  const cue = cues.find((item) => at >= item.start && at < item.end) || cues[cues.length - 1];
  frame.style.width = `${cue.w}px`;
  frame.style.height = `${cue.h}px`;
  frame.style.backgroundImage = `url("${cue.src}")`;
  frame.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
  frame.style.left = `${Math.min(box.width - cue.w, Math.max(0, fraction * box.width - cue.w / 2))}px`;
  frame.querySelector(".storyboard-time").textContent = clock(at);
  frame.hidden = false;
  strip.dataset.at = String(at);
}

document.addEventListener("pointermove", (event) => {
  const strip = event.target.closest && event.target.closest(".storyboard-strip");
  if (strip) show(strip, event);
});

document.addEventListener("pointerout", (event) => {
  const strip = event.target.closest && event.target.closest(".storyboard-strip");
  if (strip && !strip.contains(event.relatedTarget)) strip.querySelector(".storyboard-frame").hidden = true;
});

document.addEventListener("click", (event) => {
  const strip = event.target.closest && event.target.closest(".storyboard-strip");
  const player = strip && playerOf(strip);
  if (!player || strip.dataset.at === undefined) return;
  player.currentTime = Number(strip.dataset.at);
  player.play().catch(() => {});
});
