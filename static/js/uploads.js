// This browser's uploads: the files chosen in the library's #upload-input (templates/library/index.html),
// a chapter's "Upload new" (input.chapter-upload, templates/courses/_chapter.html: linked to that
// chapter when ready), a file's "Replace file" (input.replace-input, templates/library/_versions.html)
// and files dropped on the page (drop.js). Each file is a job with a row in the Activity panel
// (upload_rows.js): checked for a copy already in the library, then queued, PARALLEL_UPLOADS at a time;
// each row's [data-upload] buttons (Cancel, Resume, Use existing, Keep both, Dismiss) and the summary
// line's [data-uploads] ones (Pause all, Resume all, Cancel all) act on the jobs. Paused resumable
// uploads of an earlier page (templates/upload/_paused.html) resume when the same file is chosen again.
import { humanSize, pageSetting, csrfToken } from "./page.js";
import { toast } from "./toasts.js";
import { fetchOperationRow } from "./progress.js";
import { failRow, fillRow, newRow, renderUseAll, replaceWithServerRow, setRow, setRowProgress } from "./upload_rows.js";
import { ACTIVE, forgetFinished, renderSummary } from "./upload_summary.js";
import { canHash, existingCopy, sha256Of } from "./upload_copies.js";
import { isResumable, sendPlain, sendResumable, terminate } from "./upload_transfer.js";

const PARALLEL_UPLOADS = 3;
// A job: { file, row, target, uploadUrl, sent, status, xhr | tus, finish, existing }; status is one of
// waiting, checking, duplicate, sending, paused, done, failed, cancelled. `target`: where the file
// goes besides the library ({chapter, linkUrl}: Upload new; {replace, url, currentSha256}: Replace).
const jobs = [];
const state = { queue: [], running: 0, pausedAll: false };

const summarise = () => renderSummary(jobs, state.pausedAll);
const duplicatesShown = () => renderUseAll(jobs.filter((job) => job.status === "duplicate").length);

function newJob(file, target, uploadUrl) {
  const job = { file, row: newRow(file.name), target, uploadUrl, sent: 0, status: "waiting" };
  job.row.job = job;
  jobs.push(job);
  summarise();
  return job;
}

function fail(job, message) {
  job.status = "failed";
  failRow(job.row, message);
  summarise();
}

export function queueFiles(files, target = {}) {
  const limit = Number(pageSetting("maxUpload") || 0);
  for (const file of files) {
    const job = newJob(file, { ...target });
    if (file.size === 0) fail(job, `${file.name} is empty (0 bytes); nothing was uploaded.`);
    else if (limit && file.size > limit) fail(job, `${file.name} is ${humanSize(file.size)}, larger than the ${pageSetting("maxUploadText")} upload limit.`);
    else checkThenQueue(job);
  }
}

function enqueue(job) {
  if (job.status === "cancelled") return;
  job.status = "waiting";
  state.queue.push(job);
  pump();
}

async function checkThenQueue(job) {
  if (!canHash()) { enqueue(job); return; }
  const { file, row, target } = job;
  job.status = "checking";
  let sha256;
  try {
    sha256 = await sha256Of(file, () => job.status === "cancelled", (done) => {
      const percent = Math.floor((100 * done) / file.size);
      setRowProgress(row, percent, `Checking for a copy in your library… ${percent}%`);
    });
  } catch (error) { enqueue(job); return; }
  if (job.status === "cancelled") return;
  setRowProgress(row, 0);
  target.sha256 = sha256;
  if (target.replace) {
    if (sha256 === target.currentSha256) fail(job, "This is already the current content.");
    else enqueue(job);
    return;
  }
  const existing = await existingCopy(file, sha256);
  if (job.status === "cancelled") return;
  if (existing) offerExisting(job, existing); else enqueue(job);
}

// "Already in your library as …": Use existing (nothing is uploaded; an upload into a chapter links
// the existing file there) or Keep both (it goes up as a new entry that shares the stored copy).
function offerExisting(job, existing) {
  job.status = "duplicate";
  job.existing = existing;
  setRow(job.row, "duplicate", "");
  setRowProgress(job.row, 0);
  job.row.querySelector('[data-fill="existing"]').href = existing.url;
  fillRow(job.row, { name: job.file.name, existing: existing.name });
  duplicatesShown();
  summarise();
}

function keepBoth(job) {
  setRow(job.row, "uploading", "Waiting to upload");
  enqueue(job);
  duplicatesShown();
}

function useExisting(job) {
  const { row, target, existing } = job;
  const done = () => {
    job.status = "done";
    setRow(row, "succeeded", target.chapter ? `Added “${existing.name}” to the chapter` : `Using “${existing.name}”; nothing was uploaded`);
    setRowProgress(row, 100);
    duplicatesShown();
    summarise();
  };
  if (!target.chapter) { done(); return; }
  fetch(target.linkUrl, {
    method: "POST", body: new URLSearchParams({ media: String(existing.id) }),
    headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
  }).then((answer) => {
    if (!answer.ok) throw new Error(String(answer.status));
    done();
    htmx.trigger(document.body, "media-changed");
  }).catch(() => toast(`“${existing.name}” could not be added to the chapter. Try again.`, "error"));
}

// ---- sending ------------------------------------------------------------------------------------
function pump() {
  while (state.running < PARALLEL_UPLOADS && state.queue.length && !state.pausedAll) {
    const job = state.queue.shift();
    state.running += 1;
    job.status = "sending";
    (isResumable(job) ? sendResumable : sendPlain)(job, reporter(job))
      .finally(() => { state.running -= 1; pump(); summarise(); });
  }
}

// What the transfer tells, shown on the job's row.
function reporter(job) {
  return {
    stage(text) { setRowProgress(job.row, job.row.querySelector("progress").value, text); },
    progress(sent, total, suffix) {
      if (job.status !== "sending") return;
      job.sent = sent;
      const percent = Math.floor((100 * sent) / total);
      setRowProgress(job.row, percent, `Uploading ${percent}% of ${humanSize(total)}${suffix}`);
      summarise();
    },
    failed(message) { fail(job, message); },
    // The server's answer names the upload's operation (a resumable one) or is its row (a plain one);
    // that row replaces ours and shows the processing.
    sent({ rowHtml, operationId }) {
      job.status = "done";
      if (rowHtml !== undefined) replaceWithServerRow(job.row, rowHtml);
      else { job.row.remove(); fetchOperationRow(operationId); }
      htmx.trigger(document.body, "media-changed");
    },
  };
}

// ---- cancel and pause ---------------------------------------------------------------------------
// Cancel: a waiting job leaves the queue; a plain upload's request is aborted (the server discards
// what arrived); a resumable one is terminated (its bytes go). Pause all stops starting new uploads
// and pauses the resumable ones where they are; a plain upload is small and finishes.
function cancelJob(job) {
  if (!ACTIVE.includes(job.status)) return;
  const was = job.status;
  job.status = "cancelled";
  state.queue = state.queue.filter((other) => other !== job);
  setRow(job.row, "cancelled", "Cancelled; nothing was kept");
  setRowProgress(job.row, 0);
  if (job.xhr) job.xhr.abort();
  if (job.tus) job.tus.abort(true).catch(() => terminate(job.tus.url));
  else if (job.uploadUrl) terminate(job.uploadUrl);  // resumed from an earlier page, still waiting its turn
  if (job.finish && (was === "paused" || job.tus)) job.finish();
  duplicatesShown();
  summarise();
}

function pauseJob(job) {
  if (job.status !== "sending" || !job.tus) return;
  job.status = "paused";
  job.tus.abort(false);
  setRow(job.row, "paused", `Paused at ${Math.floor((100 * job.sent) / job.file.size)}%`);
}

function resumeJob(job) {
  if (job.status !== "paused") return;
  job.status = "sending";
  setRow(job.row, "uploading", "Resuming…");
  job.tus.start();
}

function everyUpload(what) {
  if (what === "pause") { state.pausedAll = true; jobs.forEach(pauseJob); }
  if (what === "resume") { state.pausedAll = false; jobs.forEach(resumeJob); pump(); }
  if (what === "cancel") {
    const active = jobs.filter((job) => ACTIVE.includes(job.status));
    if (active.length > 1 && !window.confirm(`Cancel ${active.length} uploads? What they have sent is discarded.`)) return;
    state.pausedAll = false;
    active.forEach(cancelJob);
  }
  summarise();
}

function oneUpload(what, row) {
  const job = row.job;
  if (what === "dismiss") { row.remove(); return; }
  if (!job) return;
  if (what === "cancel") cancelJob(job);
  if (what === "resume") { state.pausedAll = false; resumeJob(job); summarise(); }
  if (what === "use-existing") useExisting(job);
  if (what === "keep-both") keepBoth(job);
}

document.addEventListener("click", (event) => {
  const every = event.target.closest && event.target.closest("[data-uploads]");
  if (every) { everyUpload(every.dataset.uploads); return; }
  const button = event.target.closest && event.target.closest("[data-upload]");
  if (!button) return;
  if (button.dataset.upload === "use-all") { jobs.filter((job) => job.status === "duplicate").forEach(useExisting); return; }
  const row = button.closest("li");
  if (row) oneUpload(button.dataset.upload, row);
});

document.addEventListener("finished-cleared", () => { forgetFinished(); summarise(); });

// ---- paused uploads of an earlier page ----------------------------------------------------------
// Resume: choose the same file again, and it goes on from the server's offset (the row's, which the
// server confirmed after the reload). Discard: the server forgets it.
function resumePaused(pausedRow) {
  const picker = Object.assign(document.createElement("input"), { type: "file" });
  picker.addEventListener("change", () => {
    const file = picker.files[0];
    if (!file) return;
    const { name, size, percent = "0", uploadUrl } = pausedRow.dataset;
    if (file.name !== name || String(file.size) !== size) {
      toast(`That is not “${name}” (${humanSize(Number(size))}). Choose the same file to resume.`, "error");
      return;
    }
    pausedRow.remove();
    const job = newJob(file, {}, uploadUrl);
    setRowProgress(job.row, Number(percent), `Resuming from ${percent}%`);
    job.sent = Math.floor((Number(percent) * file.size) / 100);
    enqueue(job);
  });
  picker.click();
}

function discardPaused(pausedRow) {
  fetch(pausedRow.dataset.uploadUrl, { method: "DELETE", headers: { "Tus-Resumable": "1.0.0", "X-CSRFToken": csrfToken() } })
    .then((answer) => {
      if (answer.ok || answer.status === 404) pausedRow.remove();
      else toast("The upload could not be discarded. Try again.", "error");
    })
    .catch(() => toast("The server could not be reached. Check your connection.", "error"));
}

document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest('[data-action="resume-upload"], [data-action="discard-upload"]');
  if (!button) return;
  (button.dataset.action === "resume-upload" ? resumePaused : discardPaused)(button.closest("li"));
});

// ---- where files are chosen ---------------------------------------------------------------------
const input = document.getElementById("upload-input");
if (input) {
  input.addEventListener("change", () => { queueFiles(Array.from(input.files)); input.value = ""; });
  const form = document.getElementById("upload-form");
  if (form) form.classList.add("js-ready");
}

// Files chosen before the page's scripts ran (a slow connection) are uploaded once every module is
// listening: the same change event, sent again.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("#upload-input, input.chapter-upload, input.replace-input").forEach((chosen) => {
    if (chosen.files && chosen.files.length) chosen.dispatchEvent(new Event("change", { bubbles: true }));
  });
});

// The chapter list and the details dialog are swapped in and out: listen on the document.
document.addEventListener("change", (event) => {
  const picker = event.target.closest && event.target.closest("input.chapter-upload");
  if (!picker) return;
  queueFiles(Array.from(picker.files), { chapter: picker.dataset.chapterId, linkUrl: picker.dataset.linkUrl });
  picker.value = "";
  toast("Uploading; the files are added to the chapter when they are ready.");
});

document.addEventListener("change", (event) => {
  const picker = event.target.closest && event.target.closest("input.replace-input");
  if (!picker || !picker.files.length) return;
  queueFiles([picker.files[0]], { replace: picker.dataset.mediaId, url: picker.form.action, currentSha256: picker.dataset.sha256 });
  picker.value = "";
  toast("Uploading the new content; it replaces the current one when it is processed.");
});
