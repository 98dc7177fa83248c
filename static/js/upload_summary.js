// The summary line #upload-summary (templates/base.html), at the head of the Activity panel and still
// there when it is collapsed: this browser's uploads in one line ("Uploading 12 of 60 · 3.1 GB left ·
// about 4 min") with Pause all / Resume all / Cancel all ([data-uploads] buttons, uploads.js). Once
// nothing is under way it says how the batch went, and the next files start a new count.
import { humanSize } from "./page.js";

export const ACTIVE = ["waiting", "checking", "duplicate", "sending", "paused"];
const summary = { batchStarted: null, last: null };

function aboutTime(seconds) {
  if (!isFinite(seconds) || seconds <= 0) return "";
  if (seconds < 60) return "less than a minute";
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `about ${minutes} min`;
  return `about ${Math.round(minutes / 60)} h`;
}

function outcome(jobs) {
  const failed = jobs.filter((job) => job.status === "failed").length;
  const cancelled = jobs.filter((job) => job.status === "cancelled").length;
  const parts = [`${jobs.length - failed - cancelled} of ${jobs.length} uploaded`];
  if (failed) parts.push(`${failed} not uploaded`);
  if (cancelled) parts.push(`${cancelled} cancelled`);
  return parts.join(" · ");
}

function show(box, text, percent, actions) {
  box.hidden = !text;
  box.querySelector(".summary-text").textContent = text || "";
  box.querySelector("progress").value = percent;
  box.querySelector(".summary-actions").hidden = !actions;
}

// `jobs`: the batch (uploads.js); emptied here when it is over.
export function renderSummary(jobs, pausedAll) {
  const box = document.getElementById("upload-summary");
  if (!box) return;
  const active = jobs.filter((job) => ACTIVE.includes(job.status));
  if (!active.length) {
    if (jobs.length) {
      summary.last = outcome(jobs);
      jobs.splice(0);
      summary.batchStarted = null;
    }
    show(box, summary.last, 100, false);
    return;
  }
  summary.last = null;
  summary.batchStarted = summary.batchStarted || performance.now();
  const counted = jobs.filter((job) => job.status !== "cancelled");
  const sending = counted.filter((job) => job.status !== "failed");
  const done = counted.filter((job) => job.status === "done").length;
  const bytes = sending.reduce((sum, job) => sum + job.file.size, 0);
  const sent = sending.reduce((sum, job) => sum + (job.status === "done" ? job.file.size : job.sent), 0);
  const left = Math.max(0, bytes - sent);
  const seconds = (performance.now() - summary.batchStarted) / 1000;
  const rate = seconds > 2 ? sent / seconds : 0;
  const paused = pausedAll || active.every((job) => job.status === "paused");
  const parts = [paused ? `Paused: ${done} of ${counted.length} uploaded` : `Uploading ${Math.min(counted.length, done + 1)} of ${counted.length}`,
                 `${humanSize(left)} left`];
  const eta = !paused && rate ? aboutTime(left / rate) : "";
  if (eta) parts.push(eta);
  show(box, parts.join(" · "), bytes ? Math.floor((100 * sent) / bytes) : 0, true);
  box.querySelector('[data-uploads="pause"]').hidden = paused;
  box.querySelector('[data-uploads="resume"]').hidden = !paused;
}

// Clear finished: the line of a finished batch goes too.
export function forgetFinished() { summary.last = null; }
