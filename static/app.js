// mediamgr's page behaviour: uploads with byte progress, drag and drop, the details dialog,
// toasts, and the switch between live (websocket) and polled progress. The server renders
// every piece of HTML; this file only moves bytes, opens and closes things, and asks htmx.
(function () {
  "use strict";

  const UPLOAD_URL = "/media/upload";
  const PARALLEL_UPLOADS = 3;
  const TOAST_SECONDS = 8;
  const POLL_SECONDS = 3;
  const FINISHED = ["succeeded", "failed", "cancelled"];

  const state = { socketOpen: false, queue: [], running: 0, counter: 0, openedWithPush: false, pausedAll: false, batchStarted: null, lastSummary: null };

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (error) { return ""; }
  }

  function humanSize(bytes) {
    const units = ["bytes", "kB", "MB", "GB", "TB"];
    let value = bytes, unit = 0;
    while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
    return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
  }

  // ---- toasts -------------------------------------------------------------------------------
  function toast(message, kind) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = "toast" + (kind ? ` toast-${kind}` : "");
    item.textContent = message;
    const close = document.createElement("button");
    close.type = "button"; close.className = "toast-close"; close.setAttribute("aria-label", "Dismiss"); close.textContent = "×";
    item.appendChild(close);
    box.appendChild(item);
    scheduleToastRemoval(item);
  }

  function scheduleToastRemoval(item) {
    if (item.dataset.timed) return;
    item.dataset.timed = "1";
    const seconds = item.querySelector("button:not(.toast-close)") ? TOAST_SECONDS + 4 : TOAST_SECONDS;
    setTimeout(() => item.remove(), seconds * 1000);
  }

  // A modal dialog makes the rest of the page inert, and draws above it: while one is open the toasts
  // live inside it (last, so above its content), and go back to the body when it closes.
  function toastsInto(container) {
    const box = document.getElementById("toasts");
    if (box && container && box.parentElement !== container) container.appendChild(box);
  }

  // ---- uploads ------------------------------------------------------------------------------
  // Each chosen file is a job: { file, row, target, sent, status, xhr | tus, finish }. Rows are
  // clones of the server's <template id="upload-row-template">; a row's state (setRow) decides which
  // of its parts show: those whose data-when names it. The summary line counts the jobs since the
  // last moment nothing was under way.
  const jobs = [];

  function operationList() { return document.getElementById("operation-list"); }

  // A collapsed panel stays collapsed (its summary line shows): collapsing is the user's choice.
  function showPanel() {
    const panel = document.getElementById("upload-panel");
    if (panel) panel.classList.remove("is-empty");
  }

  function labelled(row, values) {
    for (const [key, value] of Object.entries(values)) {
      row.querySelectorAll(`[data-fill="${key}"]`).forEach((node) => { node.textContent = value; node.title = value; });
    }
    row.querySelectorAll("[data-label]").forEach((node) => {
      node.setAttribute("aria-label", node.dataset.label.replace(/\{(\w+)\}/g, (whole, key) => values[key] ?? whole));
    });
  }

  function uploadRow(file) {
    const row = document.getElementById("upload-row-template").content.firstElementChild.cloneNode(true);
    row.id = `upload-${++state.counter}`;
    labelled(row, { name: file.name });
    operationList().prepend(row);
    showPanel();
    return row;
  }

  function setRow(row, status, stageText) {
    row.dataset.status = status;
    row.className = `operation op-${{ duplicate: "duplicate-found", paused: "paused" }[status] || status}`;
    if (stageText !== undefined) row.querySelector(".op-stage").textContent = stageText;
    row.querySelectorAll("[data-when]").forEach((part) => { part.hidden = !part.dataset.when.split(" ").includes(status); });
  }

  function failRow(row, message) {
    setRow(row, "failed", "Not uploaded");
    row.querySelector("progress").value = 100;
    row.querySelector(".op-error").textContent = message;
    const job = row.job;
    if (job) { job.status = "failed"; renderSummary(); }
  }

  function newJob(file, row, target, uploadUrl) {
    const job = { file, row, target, uploadUrl, sent: 0, status: "waiting" };
    row.job = job;
    jobs.push(job);
    renderSummary();
    return job;
  }

  // `target`: where the file goes besides the library. {chapter: id}: "Upload new" in the course
  // editor (linked to that chapter when ready); {replace: id}: "Replace file" in a file's details
  // (the new content of that file).
  function queueFiles(files, target = {}) {
    const limit = Number(document.body.dataset.maxUpload || 0);
    const limitText = document.body.dataset.maxUploadText || "";
    for (const file of files) {
      const row = uploadRow(file);
      const job = newJob(file, row, { ...target });
      if (file.size === 0) { failRow(row, `${file.name} is empty (0 bytes); nothing was uploaded.`); continue; }
      if (limit && file.size > limit) {
        failRow(row, `${file.name} is ${humanSize(file.size)}, larger than the ${limitText} upload limit.`);
        continue;
      }
      checkThenQueue(job);
    }
  }

  // ---- duplicates, before any byte is sent ----------------------------------------------------
  // Each chosen file is hashed here (hash-wasm's streaming SHA-256, a few MiB at a time: never the
  // whole file in memory) and the server is asked whether the library holds that content already.
  // Files are hashed side by side, so a small file is not kept waiting by a large one. Without
  // WebAssembly the file goes up at once (the server recognises duplicates too).
  const HASH_CHUNK = 8 * 1024 * 1024;

  async function sha256Of(job, onProgress) {
    const { file } = job;
    const hasher = await hashwasm.createSHA256();
    hasher.init();
    for (let offset = 0; offset < file.size; offset += HASH_CHUNK) {
      if (job.status === "cancelled") return null;
      hasher.update(new Uint8Array(await file.slice(offset, offset + HASH_CHUNK).arrayBuffer()));
      onProgress(Math.min(file.size, offset + HASH_CHUNK));
    }
    return hasher.digest("hex");
  }

  function enqueue(job) {
    if (job.status === "cancelled") return;
    job.status = "waiting";
    state.queue.push(job);
    pump();
  }

  async function checkThenQueue(job) {
    if (!window.hashwasm || !window.WebAssembly) { enqueue(job); return; }
    const { file, row, target } = job;
    const stage = row.querySelector(".op-stage");
    const bar = row.querySelector("progress");
    let sha256;
    try {
      job.status = "checking";
      sha256 = await sha256Of(job, (done) => {
        const percent = Math.floor((100 * done) / file.size);
        bar.value = percent;
        stage.textContent = `Checking for a copy in your library… ${percent}%`;
      });
    } catch (error) { enqueue(job); return; }
    if (job.status === "cancelled") return;
    bar.value = 0;
    target.sha256 = sha256;
    if (target.replace) {
      if (sha256 === target.currentSha256) { failRow(row, "This is already the current content."); return; }
      enqueue(job);
      return;
    }
    let existing = null;
    try {
      const answer = await fetch("/media/duplicates/check", {
        method: "POST", headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ files: [{ sha256, size: file.size, name: file.name }] }),
      });
      if (answer.ok) existing = (await answer.json()).files[0].existing;
    } catch (error) { /* the server will tell after the upload */ }
    if (job.status === "cancelled") return;
    if (!existing) { enqueue(job); return; }
    offerExisting(job, existing);
  }

  // "Already in your library as …": Use existing (nothing is uploaded; an upload into a chapter links
  // the existing file there) or Keep both (it goes up as a new entry that shares the stored copy).
  function offerExisting(job, existing) {
    const { file, row } = job;
    job.status = "duplicate";
    job.existing = existing;
    setRow(row, "duplicate", "");
    row.querySelector("progress").value = 0;
    row.querySelector('[data-fill="existing"]').href = existing.url;
    labelled(row, { name: file.name, existing: existing.name });
    renderUseAll();
    renderSummary();
  }

  function keepBoth(job) {
    setRow(job.row, "uploading", "Waiting to upload");
    renderUseAll();
    enqueue(job);
  }

  function useExisting(job) {
    const { row, target, existing } = job;
    const done = () => {
      job.status = "done";
      setRow(row, "succeeded", target.chapter ? `Added “${existing.name}” to the chapter` : `Using “${existing.name}”; nothing was uploaded`);
      row.querySelector("progress").value = 100;
      renderUseAll();
      renderSummary();
    };
    if (!target.chapter) { done(); return; }
    const form = new URLSearchParams({ media: String(existing.id) });
    fetch(`/chapters/${target.chapter}/items`, {
      method: "POST", body: form,
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
    }).then((answer) => {
      if (!answer.ok) throw new Error(String(answer.status));
      done();
      htmx.trigger(document.body, "media-changed");
    }).catch(() => toast(`“${existing.name}” could not be added to the chapter. Try again.`, "error"));
  }

  // Several duplicates in one drop: one button for all of them.
  function renderUseAll() {
    const list = operationList();
    if (!list) return;
    const waiting = jobs.filter((job) => job.status === "duplicate");
    let bar = document.getElementById("use-existing-all");
    if (waiting.length < 2) { if (bar) bar.remove(); return; }
    if (!bar) {
      bar = document.getElementById("use-all-template").content.firstElementChild.cloneNode(true);
      list.prepend(bar);
    }
    bar.querySelector("button").textContent = `Use existing for all (${waiting.length})`;
  }

  function pump() {
    while (state.running < PARALLEL_UPLOADS && state.queue.length && !state.pausedAll) {
      const next = state.queue.shift();
      state.running += 1;
      next.status = "sending";
      const resumable = window.tus && (next.uploadUrl || next.file.size >= Number(document.body.dataset.resumableThreshold || Infinity));
      (resumable ? sendResumable(next) : send(next))
        .finally(() => { state.running -= 1; pump(); renderSummary(); });
    }
  }

  // ---- cancel, pause, and the summary line ----------------------------------------------------
  // Cancel: a waiting job leaves the queue; a plain upload's request is aborted (the server discards
  // what arrived); a resumable one is terminated (tus DELETE: its bytes go). Pause all stops starting
  // new uploads and pauses the resumable ones where they are; a plain upload is small and finishes.
  function cancelJob(job) {
    if (["done", "failed", "cancelled"].includes(job.status)) return;
    const was = job.status;
    job.status = "cancelled";
    state.queue = state.queue.filter((other) => other !== job);
    setRow(job.row, "cancelled", "Cancelled; nothing was kept");
    job.row.querySelector("progress").value = 0;
    if (job.xhr) job.xhr.abort();
    if (job.tus) job.tus.abort(true).catch(() => terminate(job.tus.url));
    else if (job.uploadUrl) terminate(job.uploadUrl);  // resumed from an earlier page, still waiting its turn
    if (job.finish && (was === "paused" || job.tus)) job.finish();
    renderUseAll();
    renderSummary();
  }

  function terminate(url) {
    if (url) fetch(url, { method: "DELETE", headers: { "Tus-Resumable": "1.0.0", "X-CSRFToken": csrfToken() } }).catch(() => {});
  }

  function pauseJob(job) {
    if (job.status !== "sending" || !job.tus) return;
    job.status = "paused";
    job.tus.abort(false);
    setRow(job.row, "paused", `Paused at ${Math.floor((100 * job.sent) / job.file.size)}%`);
    renderSummary();
  }

  function resumeJob(job) {
    if (job.status !== "paused") return;
    job.status = "sending";
    setRow(job.row, "uploading", "Resuming…");
    job.tus.start();
    renderSummary();
  }

  function activeJobs() { return jobs.filter((job) => ["waiting", "checking", "duplicate", "sending", "paused"].includes(job.status)); }

  function aboutTime(seconds) {
    if (!isFinite(seconds) || seconds <= 0) return "";
    if (seconds < 60) return "less than a minute";
    const minutes = Math.round(seconds / 60);
    if (minutes < 90) return `about ${minutes} min`;
    return `about ${Math.round(minutes / 60)} h`;
  }

  function renderSummary() {
    const box = document.getElementById("upload-summary");
    if (!box) return;
    const active = activeJobs();
    if (!active.length) {  // all done: the line says how it went, and the next files start a new count
      if (jobs.length) {
        const failed = jobs.filter((job) => job.status === "failed").length;
        const cancelled = jobs.filter((job) => job.status === "cancelled").length;
        const parts = [`${jobs.length - failed - cancelled} of ${jobs.length} uploaded`];
        if (failed) parts.push(`${failed} not uploaded`);
        if (cancelled) parts.push(`${cancelled} cancelled`);
        state.lastSummary = parts.join(" · ");
        jobs.splice(0);
        state.batchStarted = null;
      }
      box.hidden = !state.lastSummary;
      box.querySelector(".summary-text").textContent = state.lastSummary || "";
      box.querySelector("progress").value = 100;
      box.querySelector(".summary-actions").hidden = true;
      return;
    }
    state.lastSummary = null;
    state.batchStarted = state.batchStarted || { at: performance.now(), sent: 0 };
    const total = jobs.filter((job) => job.status !== "cancelled").length;
    const done = jobs.filter((job) => job.status === "done").length;
    const bytes = jobs.filter((job) => job.status !== "cancelled" && job.status !== "failed").reduce((sum, job) => sum + job.file.size, 0);
    const sent = jobs.filter((job) => job.status !== "cancelled" && job.status !== "failed").reduce((sum, job) => sum + (job.status === "done" ? job.file.size : job.sent), 0);
    const left = Math.max(0, bytes - sent);
    const seconds = (performance.now() - state.batchStarted.at) / 1000;
    const rate = seconds > 2 ? sent / seconds : 0;
    const paused = state.pausedAll || (active.length && active.every((job) => job.status === "paused"));
    const parts = [paused ? `Paused: ${done} of ${total} uploaded` : `Uploading ${Math.min(total, done + 1)} of ${total}`, `${humanSize(left)} left`];
    const eta = !paused && rate ? aboutTime(left / rate) : "";
    if (eta) parts.push(eta);
    box.hidden = false;
    box.querySelector(".summary-text").textContent = parts.join(" · ");
    box.querySelector("progress").value = bytes ? Math.floor((100 * sent) / bytes) : 0;
    box.querySelector(".summary-actions").hidden = false;
    box.querySelector('[data-uploads="pause"]').hidden = !!paused;
    box.querySelector('[data-uploads="resume"]').hidden = !paused;
  }

  function uploadsAction(what) {
    if (what === "pause") { state.pausedAll = true; jobs.forEach(pauseJob); }
    if (what === "resume") { state.pausedAll = false; jobs.forEach(resumeJob); pump(); }
    if (what === "cancel") {
      const active = activeJobs();
      if (active.length > 1 && !window.confirm(`Cancel ${active.length} uploads? What they have sent is discarded.`)) return;
      state.pausedAll = false;
      active.forEach(cancelJob);
    }
    renderSummary();
  }

  document.addEventListener("click", (event) => {
    const all = event.target.closest("[data-uploads]");
    if (all) { uploadsAction(all.dataset.uploads); return; }
    const button = event.target.closest("[data-upload]");
    const row = button && button.closest("li");
    if (!row) return;
    const what = button.dataset.upload;
    if (what === "use-all") { jobs.filter((job) => job.status === "duplicate").forEach(useExisting); return; }
    const job = row.job;
    if (what === "dismiss") { row.remove(); return; }
    if (!job) return;
    if (what === "cancel") cancelJob(job);
    if (what === "resume") { state.pausedAll = false; resumeJob(job); }
    if (what === "use-existing") useExisting(job);
    if (what === "keep-both") keepBoth(job);
  });

  // The server's answer to a finished upload names its operation; its row replaces ours.
  function showOperation(job, operationId) {
    job.status = "done";
    job.row.remove();
    const panel = document.getElementById("upload-panel");
    if (operationId && panel) htmx.ajax("GET", `${panel.dataset.operationUrl}${operationId}`, { source: panel, swap: "none" });
    htmx.trigger(document.body, "media-changed");
  }

  function showProgress(job, sent, total, suffix) {
    job.sent = sent;
    const percent = Math.floor((100 * sent) / total);
    job.row.querySelector("progress").value = percent;
    job.row.querySelector(".op-stage").textContent = `Uploading ${percent}% of ${humanSize(total)}${suffix}`;
    renderSummary();
  }

  // Large files go up with tus (resumable): after a dropped connection the client asks the server
  // where the upload stands and goes on from there; after a reload, choosing the same file again
  // resumes it (tus-js-client remembers the upload's URL by the file's fingerprint).
  function sendResumable(job) {
    const { file, row, uploadUrl, target } = job;
    return new Promise((resolve) => {
      job.finish = resolve;
      const stage = row.querySelector(".op-stage");
      const upload = new tus.Upload(file, {
        endpoint: "/uploads/",
        uploadUrl: uploadUrl || null,
        chunkSize: Number(document.body.dataset.resumableChunk) || 64 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000],
        metadata: Object.assign({ filename: file.name, filetype: file.type || "application/octet-stream" },
                                target.chapter ? { chapter: String(target.chapter) } : {},
                                target.replace ? { replace: String(target.replace) } : {}),
        headers: { "X-CSRFToken": csrfToken() },
        removeFingerprintOnSuccess: true,
        onShouldRetry(error) {
          const status = error.originalResponse ? error.originalResponse.getStatus() : 0;
          if (!status || status === 409 || status === 423 || status >= 500) {
            stage.textContent = "Connection lost; resuming…";
            return true;
          }
          return false;
        },
        // Cancelled while its creation was under way: the upload the server made goes too.
        onUploadUrlAvailable() { if (job.status === "cancelled") terminate(job.tus.url); },
        onProgress(sent, total) { if (job.status === "sending") showProgress(job, sent, total, " (resumable)"); },
        onError(error) {
          if (job.status === "cancelled") { resolve(); return; }
          const answer = error.originalResponse;
          const text = answer && answer.getBody ? answer.getBody() : "";
          failRow(row, text && !text.trim().startsWith("<") ? text : "The upload stopped. Choose the file again to resume it.");
          resolve();
        },
        onSuccess(payload) {
          const answer = payload && payload.lastResponse;
          showOperation(job, answer ? answer.getHeader("X-Operation-Id") : null);
          resolve();
        },
      });
      job.tus = upload;
      if (!uploadUrl) stage.textContent = "Uploading 0% (resumable)";
      const begin = uploadUrl ? Promise.resolve([]) : upload.findPreviousUploads();
      begin.then((previous) => {
        if (job.status === "cancelled") return;
        if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      });
    });
  }

  // "Resume" on a paused row of an earlier page: choose the same file again, and it goes on from
  // the server's offset.
  function resumePaused(pausedRow) {
    const picker = document.createElement("input");
    picker.type = "file";
    picker.addEventListener("change", () => {
      const file = picker.files[0];
      if (!file) return;
      if (file.name !== pausedRow.dataset.name || String(file.size) !== pausedRow.dataset.size) {
        toast(`That is not “${pausedRow.dataset.name}” (${humanSize(Number(pausedRow.dataset.size))}). Choose the same file to resume.`, "error");
        return;
      }
      const row = uploadRow(file);
      row.querySelector("progress").value = Number(pausedRow.dataset.percent || 0);
      row.querySelector(".op-stage").textContent = `Resuming from ${pausedRow.dataset.percent || 0}%`;
      pausedRow.remove();
      const job = newJob(file, row, {}, pausedRow.dataset.uploadUrl);
      job.sent = Math.floor((Number(pausedRow.dataset.percent || 0) * file.size) / 100);
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

  function send(job) {
    const { file, row, target } = job;
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      job.xhr = xhr;
      xhr.open("POST", target.replace ? `/media/${target.replace}/replace` : UPLOAD_URL);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("X-Filename", encodeURIComponent(file.name));
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      if (target.chapter) xhr.setRequestHeader("X-Link-Chapter", String(target.chapter));
      if (target.sha256) xhr.setRequestHeader("X-Content-SHA256", target.sha256);  // same content costs no quota
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable && job.status === "sending") showProgress(job, event.loaded, event.total, "");
      });
      xhr.addEventListener("load", () => {
        if (xhr.status === 201) {
          job.status = "done";
          const holder = document.createElement("ol");
          holder.innerHTML = xhr.responseText;
          const fresh = holder.querySelector(".operation");
          if (fresh && document.getElementById(fresh.id)) {
            row.remove();  // the websocket already brought this operation's row
          } else if (fresh) {
            fresh.removeAttribute("hx-swap-oob");
            row.replaceWith(fresh);
            htmx.process(fresh);
          }
          htmx.trigger(document.body, "media-changed");
        } else {
          failRow(row, xhr.responseText || `The upload failed (HTTP ${xhr.status}).`);
        }
        resolve();
      });
      xhr.addEventListener("error", () => { failRow(row, "The connection dropped during the upload. Try again."); resolve(); });
      xhr.addEventListener("abort", () => resolve());  // Cancel (cancelJob has marked the row)
      row.querySelector(".op-stage").textContent = "Uploading 0%";
      xhr.send(file);
    });
  }

  // Before the drop, a browser tells each dragged file's MIME type (not its name or size): the overlay
  // says how many will be refused for their type. A type it does not tell ("") is left to the server.
  function describeDrag(overlay, transfer) {
    const accepted = (overlay.dataset.acceptTypes || "").split(",");
    const takes = (type) => accepted.some((rule) => (rule.endsWith("/*") ? type.startsWith(rule.slice(0, -1)) : rule === type));
    const files = Array.from(transfer.items || []).filter((item) => item.kind === "file");
    const refused = files.filter((item) => item.type && !takes(item.type));
    const title = overlay.querySelector("#drop-title");
    const note = overlay.querySelector("#drop-refused");
    const count = (n) => (n === 1 ? "1 file" : `${n} files`);
    title.textContent = files.length > 1 ? `Drop ${count(files.length)} to upload` : "Drop files to upload";
    note.hidden = !refused.length;
    if (!refused.length) return;
    const types = Array.from(new Set(refused.map((item) => item.type))).join(", ");
    note.textContent = refused.length === files.length
      ? `${refused.length === 1 ? "This file is" : "These files are"} of a type the library does not take (${types}): ${refused.length === 1 ? "it" : "they"} will be refused.`
      : `${count(refused.length)} of ${files.length} ${refused.length === 1 ? "is" : "are"} of a type the library does not take (${types}) and will be refused; the others go up.`;
  }

  function setUpUploads() {
    const input = document.getElementById("upload-input");
    if (input) {
      input.addEventListener("change", () => { queueFiles(Array.from(input.files)); input.value = ""; });
      const form = document.getElementById("upload-form");
      if (form) form.classList.add("js-ready");
    }
    // "Upload new" in a chapter of the course editor (the chapter list is swapped, so listen on the document).
    document.addEventListener("change", (event) => {
      const picker = event.target.closest && event.target.closest("input.chapter-upload");
      if (!picker) return;
      queueFiles(Array.from(picker.files), { chapter: picker.dataset.chapterId });
      picker.value = "";
      toast("Uploading; the files are added to the chapter when they are ready.");
    });
    // "Replace file" in a file's details (the dialog is swapped, so listen on the document).
    document.addEventListener("change", (event) => {
      const picker = event.target.closest && event.target.closest("input.replace-input");
      if (!picker || !picker.files.length) return;
      queueFiles([picker.files[0]], { replace: picker.dataset.mediaId, currentSha256: picker.dataset.sha256 });
      picker.value = "";
      toast("Uploading the new content; it replaces the current one when it is processed.");
    });
    const overlay = document.getElementById("drop-overlay");
    if (!overlay || !document.getElementById("upload-form")) return;
    let depth = 0;
    const carriesFiles = (event) => event.dataTransfer && Array.from(event.dataTransfer.types || []).includes("Files");
    document.addEventListener("dragenter", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault(); depth += 1; overlay.hidden = false;
      describeDrag(overlay, event.dataTransfer);
    });
    document.addEventListener("dragover", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault(); event.dataTransfer.dropEffect = "copy";
    });
    document.addEventListener("dragleave", (event) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1); if (depth === 0) overlay.hidden = true;
    });
    document.addEventListener("drop", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault(); depth = 0; overlay.hidden = true;
      queueFiles(Array.from(event.dataTransfer.files));
    });
  }

  // ---- the details dialog -------------------------------------------------------------------
  function currentDialog() { return document.querySelector("#dialog-root > dialog"); }

  // The element an htmx swap event is about; a history restore's events have none.
  function swapTargetId(event) { return (event.detail && event.detail.target && event.detail.target.id) || ""; }

  // What opened the dialog, to give focus back to when it closes: the element itself, or (when it was
  // swapped meanwhile, a card after an edit) the element now under the same id's holder.
  function rememberOpener(opener) {
    const holder = opener && opener.closest && opener.closest("[id]");
    state.opener = opener ? { element: opener, holder: holder ? holder.id : "" } : null;
  }

  function restoreFocus() {
    const opener = state.opener;
    state.opener = null;
    if (!opener) return;
    let target = opener.element && opener.element.isConnected ? opener.element : null;
    if (!target && opener.holder) {
      const holder = document.getElementById(opener.holder);
      target = holder && (holder.querySelector(".card-link, a[href], button") || holder);
    }
    if (target && typeof target.focus === "function") target.focus();
  }

  function closeDialog(fromHistory) {
    const dialog = currentDialog();
    if (!dialog) return;
    toastsInto(document.body);
    if (dialog.open) dialog.close();
    dialog.remove();
    if (!fromHistory && state.openedWithPush) {
      state.openedWithPush = false;
      history.back();  // htmx restores the page's snapshot, then focus goes back (htmx:historyRestore)
      return;
    }
    state.openedWithPush = false;
    restoreFocus();
  }

  // A swap into the dialog's place (another dialog replacing this one) would take the toasts with it.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (swapTargetId(event) === "dialog-root") toastsInto(document.body);
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (swapTargetId(event) !== "dialog-root") return;
    const dialog = currentDialog();
    if (!dialog) return;
    state.openedWithPush = location.pathname === dialog.dataset.url;
    const opener = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!state.opener || (opener && opener !== document.body)) rememberOpener(opener || document.activeElement);
    dialog.addEventListener("close", () => closeDialog(false), { once: true });
    dialog.addEventListener("click", (clickEvent) => { if (clickEvent.target === dialog) closeDialog(false); });
    dialog.showModal();
    toastsInto(dialog);
  });

  document.addEventListener("close-dialog", () => closeDialog(false));

  // A refresh of the results (after an edit, a restore from history) replaces the focused card: focus
  // goes to the same control of the card with the same id in the new results.
  let resultsFocus = null;
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (swapTargetId(event) !== "results") return;
    const active = document.activeElement;
    const holder = active && active !== document.body && active.closest && active.closest(".media-card[id]");
    resultsFocus = holder ? { holder: holder.id, className: active.className } : null;
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    if (swapTargetId(event) !== "results" || !resultsFocus) return;
    const { holder, className } = resultsFocus;
    resultsFocus = null;
    const card = document.getElementById(holder);
    const target = card && ((className && card.querySelector("." + className.split(" ")[0])) || card.querySelector(".card-link"));
    if (target && document.activeElement === document.body) target.focus();
  });

  document.addEventListener("htmx:historyRestore", () => {
    closeDialog(true);
    restoreFocus();
    // A restored snapshot can be older than the data: fetch the results again.
    htmx.trigger(document.body, "media-changed");
  });

  // ---- live progress: websocket, else polling -----------------------------------------------
  function setConnection(open) {
    state.socketOpen = open;
    const label = document.getElementById("connection-state");
    if (label) { label.textContent = open ? "live" : "polling"; label.classList.toggle("offline", !open); }
  }

  document.addEventListener("htmx:wsOpen", () => setConnection(true));
  document.addEventListener("htmx:wsClose", () => setConnection(false));
  document.addEventListener("htmx:wsError", () => setConnection(false));

  document.addEventListener("htmx:wsAfterMessage", () => showPanelIfBusy());

  // When an operation this page shows as under way finishes, the files changed: the results refetch
  // themselves ("media-changed"). For an upload the card is swapped in place too, but a grid refresh
  // that started before the file was ready may land after it, so the refetch stays.
  let refreshTimer = null;
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => htmx.trigger(document.body, "media-changed"), 50);
  }

  function showPanelIfBusy() {
    const list = operationList();
    if (list && list.children.length) showPanel();
  }

  // Floating at the bottom (collapsed, or on a narrower screen), the activity panel covers the page: keep that much room under the content,
  // so the last cards scroll clear of it and a focused control never hides behind it (WCAG 2.4.11).
  const DOCKED = window.matchMedia("(min-width: 1180px)");
  function reservePanelSpace() {
    const panel = document.getElementById("upload-panel");
    const docked = panel && DOCKED.matches && !panel.classList.contains("is-collapsed");
    const height = panel && !docked ? panel.getBoundingClientRect().height : 0;
    document.documentElement.style.setProperty("--panel-space", height ? `${Math.ceil(height) + 16}px` : "0px");
  }
  const floatingPanel = document.getElementById("upload-panel");
  if (floatingPanel && "ResizeObserver" in window) new ResizeObserver(reservePanelSpace).observe(floatingPanel);
  DOCKED.addEventListener("change", reservePanelSpace);

  function busy() {
    const list = operationList();
    return !!list && !!list.querySelector('[data-status="queued"], [data-status="running"]');
  }

  // Without a websocket, ask for the same fragments every few seconds while work is under way.
  function pollWhileOffline() {
    const panel = document.getElementById("upload-panel");
    if (panel && !state.socketOpen && busy()) htmx.ajax("GET", panel.dataset.pollUrl, { source: panel, swap: "none" });
  }

  // Progress fragments name elements by id. A running operation this page has not shown yet
  // (started in another tab, or by the response that arrives before its first event) is added at
  // the top of the panel; a finished operation or a card that this page does not show is dropped.
  // The extension is on <body>: every response that carries rows (the websocket, polling, a bulk
  // start, an undo) goes through it, so no out-of-band swap lacks its target.
  htmx.defineExtension("progress-fragments", {
    transformResponse(text) {
      const template = document.createElement("template");
      template.innerHTML = text;
      for (const element of Array.from(template.content.children)) {
        const shown = element.id && document.getElementById(element.id);
        if (shown && element.classList.contains("operation") && FINISHED.includes(element.dataset.status) &&
            !FINISHED.includes(shown.dataset.status)) refreshSoon();
        if (!element.id || !element.hasAttribute("hx-swap-oob") || shown) continue;
        if (element.classList.contains("operation") && ["queued", "running"].includes(element.dataset.status)) {
          // A positional out-of-band swap inserts an element's children: wrap the row.
          const wrapper = document.createElement("div");
          wrapper.setAttribute("hx-swap-oob", "afterbegin:#operation-list");
          element.removeAttribute("hx-swap-oob");
          element.replaceWith(wrapper);
          wrapper.appendChild(element);
        } else {
          element.remove();
        }
      }
      return template.innerHTML;
    },
  });

  // ---- selection and bulk actions -----------------------------------------------------------
  // Ticked boxes belong to the selection bar's form (form="bulk-form"), so the bar sends them
  // itself. "Select all matching" sends the filter instead of ids (all=1). The ids are also kept
  // here so that a refetched grid shows the same boxes ticked.
  const selection = { ids: new Set(), all: false, anchor: null };

  function bulkForm() { return document.getElementById("bulk-form"); }
  function selectBoxes() { return Array.from(document.querySelectorAll('input.select-box[form="bulk-form"]')); }

  function renderSelection() {
    const form = bulkForm();
    if (!form) return;
    const boxes = selectBoxes();
    const present = new Set(boxes.map((box) => box.value));
    for (const id of Array.from(selection.ids)) if (!present.has(id)) selection.ids.delete(id);
    for (const box of boxes) {
      box.checked = selection.all || selection.ids.has(box.value);
      const item = box.closest("li");
      if (item) item.classList.toggle("is-selected", box.checked);
    }
    form.querySelector("#bulk-all").value = selection.all ? "1" : "0";
    const count = selection.ids.size;
    form.hidden = !selection.all && count === 0;
    document.body.classList.toggle("has-selection", !form.hidden);
    const label = document.getElementById("bulk-count");
    if (label && !selection.all) {
      label.textContent = `${count.toLocaleString("en")} selected`;
      label.dataset.all = "0";
    }
  }

  function clearSelection() {
    selection.ids.clear(); selection.all = false; selection.anchor = null;
    renderSelection();
  }

  document.addEventListener("click", (event) => {
    const box = event.target.closest('input.select-box[form="bulk-form"]');
    if (!box) return;
    const boxes = selectBoxes();
    if (selection.all) {  // unticking one file leaves "all matching" for the files on this page
      selection.all = false;
      boxes.forEach((other) => selection.ids.add(other.value));
    }
    if (event.shiftKey && selection.anchor) {
      const from = boxes.findIndex((other) => other.value === selection.anchor);
      const to = boxes.indexOf(box);
      if (from >= 0 && to >= 0) {
        for (const other of boxes.slice(Math.min(from, to), Math.max(from, to) + 1)) {
          if (box.checked) selection.ids.add(other.value); else selection.ids.delete(other.value);
        }
      }
    }
    if (box.checked) selection.ids.add(box.value); else selection.ids.delete(box.value);
    selection.anchor = box.value;
    renderSelection();
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-bulk]");
    if (!button) return;
    const what = button.dataset.bulk;
    if (what === "page") { selection.all = false; selectBoxes().forEach((box) => selection.ids.add(box.value)); }
    if (what === "matching") { selection.all = true; selectBoxes().forEach((box) => selection.ids.add(box.value)); }
    if (what === "clear") { clearSelection(); return; }
    renderSelection();
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !currentDialog() && (selection.all || selection.ids.size)) clearSelection();
  });

  // A new filter is a new list: the selection of the old one would act on files no longer shown.
  // (Only a request for the list: the tag field's suggestions come from the filters too.)
  document.addEventListener("htmx:beforeRequest", (event) => {
    const source = event.detail.elt;
    if (source && source.closest && source.closest("#filters") && swapTargetId(event) === "results") clearSelection();
  });
  document.addEventListener("htmx:afterSettle", () => renderSelection());
  document.addEventListener("bulk-started", () => { clearSelection(); showPanel(); });

  // The course editor's behaviour is static/course_editor.js (an ES module loaded by its page).

  // ---- the library picker -------------------------------------------------------------------
  // Files are added in the order they were ticked, so the ticks are kept in a list (hidden inputs
  // of the picker's form), not read back from the page's order; a new filter keeps them.
  const picked = [];

  function renderPicked() {
    const form = document.getElementById("picker-form");
    if (!form) return;
    const holder = form.querySelector("#picker-chosen");
    holder.replaceChildren(...picked.map(({ id }) => Object.assign(document.createElement("input"), { type: "hidden", name: "media", value: id })));
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
    if (swapTargetId(event) === "dialog-root" && document.getElementById("picker-dialog")) picked.length = 0;
    if (document.getElementById("picker-dialog")) renderPicked();
  });

  // ---- the library filters ------------------------------------------------------------------
  // The tag field asks for its list on change and on Enter (Enter may pick a suggestion without a
  // change event), through one trigger, "tag-apply changed", so a value is asked for once: leaving
  // the field after Enter fires a change that would fetch the same list again and clear a selection
  // made since. Enter also submits the form; the tag field's own request stands for that submit.
  function applyTag(event) {
    if (event.target.matches && event.target.matches("[data-tag-filter]") && (event.type === "change" || event.key === "Enter")) {
      htmx.trigger(event.target, "tag-apply");
    }
  }
  document.addEventListener("change", applyTag);
  document.addEventListener("keyup", applyTag);
  document.addEventListener("htmx:confirm", (event) => {
    const trigger = event.detail.triggeringEvent;
    if (trigger && trigger.type === "submit" && event.detail.elt.matches("[data-filters]") &&
        document.activeElement && document.activeElement.matches("[data-tag-filter]")) event.preventDefault();
  });

  // ---- the rest -----------------------------------------------------------------------------
  document.addEventListener("htmx:responseError", (event) => {
    const text = (event.detail.xhr && event.detail.xhr.responseText) || "";
    const plain = text && !text.trim().startsWith("<") ? text : "Something went wrong. Please try again.";
    toast(plain, "error");
  });
  // A toast's button (Undo) takes the toast away once its answer is in: removed earlier, the button
  // would be outside the page when the answer comes, and its out-of-band rows would miss the extension
  // on <body> that places them.
  document.addEventListener("htmx:afterRequest", (event) => {
    const source = event.detail.elt;
    const item = source && source.closest && source.closest(".toast");
    if (item) item.remove();
  });
  document.addEventListener("htmx:sendError", () => toast("The server could not be reached. Check your connection.", "error"));

  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-action], .toast-close, .toast button");
    if (!target) return;
    if (target.classList.contains("toast-close")) { target.closest(".toast").remove(); return; }
    if (target.closest(".toast") && target.hasAttribute("hx-post")) return;  // it goes when its request is done (below)
    const action = target.dataset.action;
    if (action === "close-dialog") closeDialog(false);
    if (action === "toggle-filters") {
      const expanded = document.getElementById(target.getAttribute("aria-controls")).classList.toggle("is-expanded");
      target.setAttribute("aria-expanded", String(expanded));
    }
    if (action === "resume-upload") resumePaused(target.closest("li"));
    if (action === "discard-upload") discardPaused(target.closest("li"));
    if (action === "clear-finished") {
      state.lastSummary = null;
      renderSummary();
      operationList().querySelectorAll('[data-status="succeeded"], [data-status="failed"], [data-status="cancelled"]').forEach((row) => row.remove());
      if (!operationList().children.length) document.getElementById("upload-panel").classList.add("is-empty");
    }
  });

  document.addEventListener("click", (event) => {
    const toggle = event.target.closest(".panel-toggle");
    if (!toggle) return;
    const panel = document.getElementById("upload-panel");
    const collapsed = panel.classList.toggle("is-collapsed");
    toggle.setAttribute("aria-expanded", String(!collapsed));
    toggle.setAttribute("aria-label", collapsed ? "Expand activity" : "Collapse activity");
  });

  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "/" && !typing && !currentDialog()) {
      const search = document.getElementById("search");
      if (search) { event.preventDefault(); search.focus(); }
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.documentElement.classList.add("js");
    setUpUploads();
    document.querySelectorAll("#toasts .toast").forEach(scheduleToastRemoval);
    setInterval(pollWhileOffline, POLL_SECONDS * 1000);
    new MutationObserver(() => document.querySelectorAll("#toasts .toast").forEach(scheduleToastRemoval))
      .observe(document.getElementById("toasts"), { childList: true });
  });

  window.mediamgr = { toast };
})();
