// Moving a file's bytes to the server, without markup of its own: a plain POST of the file as the
// body (XMLHttpRequest, for its upload progress) to the job's URL, or tus (tus-js-client: resumable,
// for large files) to <body data-resumable-url>. The caller (uploads.js) hears of progress, of the
// stage ("Connection lost; resuming…"), and of the end: sent (the server's answer) or failed (a
// message to show). A cancelled job (job.status) ends quietly.
import { csrfToken, pageSetting } from "./page.js";

const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000];

export function isResumable(job) {
  return !!window.tus && (!!job.uploadUrl || job.file.size >= Number(pageSetting("resumableThreshold") || Infinity));
}

export function sendPlain(job, on) {
  const { file, target } = job;
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    job.xhr = xhr;
    xhr.open("POST", target.url || pageSetting("uploadUrl"));
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("X-Filename", encodeURIComponent(file.name));
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    if (target.chapter) xhr.setRequestHeader("X-Link-Chapter", String(target.chapter));
    if (target.sha256) xhr.setRequestHeader("X-Content-SHA256", target.sha256);  // same content costs no quota
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) on.progress(event.loaded, event.total, "");
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201) on.sent({ rowHtml: xhr.responseText });
      else on.failed(xhr.responseText || `The upload failed (HTTP ${xhr.status}).`);
      resolve();
    });
    xhr.addEventListener("error", () => { on.failed("The connection dropped during the upload. Try again."); resolve(); });
    xhr.addEventListener("abort", () => resolve());  // Cancel: the caller has marked the row
    on.stage("Uploading 0%");
    xhr.send(file);
  });
}

// Ends a resumable upload on the server (tus DELETE): its bytes go.
export function terminate(url) {
  if (url) fetch(url, { method: "DELETE", headers: { "Tus-Resumable": "1.0.0", "X-CSRFToken": csrfToken() } }).catch(() => {});
}

// After a dropped connection tus-js-client asks the server where the upload stands and goes on from
// there; after a reload, choosing the same file again resumes it (it remembers the upload's URL by
// the file's fingerprint), as does a job that names the URL (job.uploadUrl: Resume on a paused row).
export function sendResumable(job, on) {
  const { file, target } = job;
  return new Promise((resolve) => {
    job.finish = resolve;
    const upload = new tus.Upload(file, {
      endpoint: pageSetting("resumableUrl"),
      uploadUrl: job.uploadUrl || null,
      chunkSize: Number(pageSetting("resumableChunk")) || 64 * 1024 * 1024,
      retryDelays: RETRY_DELAYS,
      metadata: Object.assign({ filename: file.name, filetype: file.type || "application/octet-stream" },
                              target.chapter ? { chapter: String(target.chapter) } : {},
                              target.replace ? { replace: String(target.replace) } : {}),
      headers: { "X-CSRFToken": csrfToken() },
      removeFingerprintOnSuccess: true,
      onShouldRetry(error) {
        const status = error.originalResponse ? error.originalResponse.getStatus() : 0;
        if (!status || status === 409 || status === 423 || status >= 500) {
          on.stage("Connection lost; resuming…");
          return true;
        }
        return false;
      },
      // Cancelled while its creation was under way: the upload the server made goes too.
      onUploadUrlAvailable() { if (job.status === "cancelled") terminate(upload.url); },
      onProgress(sent, total) { on.progress(sent, total, " (resumable)"); },
      onError(error) {
        if (job.status !== "cancelled") {
          const answer = error.originalResponse;
          const text = answer && answer.getBody ? answer.getBody() : "";
          on.failed(text && !text.trim().startsWith("<") ? text : "The upload stopped. Choose the file again to resume it.");
        }
        resolve();
      },
      onSuccess(payload) {
        const answer = payload && payload.lastResponse;
        on.sent({ operationId: answer ? answer.getHeader("X-Operation-Id") : null });
        resolve();
      },
    });
    job.tus = upload;
    if (!job.uploadUrl) on.stage("Uploading 0% (resumable)");
    const begin = job.uploadUrl ? Promise.resolve([]) : upload.findPreviousUploads();
    begin.then((previous) => {
      if (job.status === "cancelled") return;
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    });
  });
}
