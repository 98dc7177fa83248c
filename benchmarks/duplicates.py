"""A duplicate caught before its bytes are sent: the 1 GiB payload is chosen in the library page
(Playwright driving Debian's Chromium) while the library holds that content already. Measured: the
time from choosing the file to "Already in your library as …" (the page hashes it with hash-wasm,
then asks the server), the hashing throughput that gives, and what was sent to the server (no upload
request; the check itself is a few hundred bytes of JSON)."""
import hashlib
import time

import sqlalchemy as sa

from mediamgr import create_app
from mediamgr.auth.models import User
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.storage import content_key
from mediamgr.timeutil import utcnow

from .ingest import EMAIL, PASSWORD, UploadServer
from .report import Check

MiB = 1024 * 1024
MAX_SENT = 1 * MiB
CHROMIUM = "/usr/bin/chromium"


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while block := source.read(16 * MiB):
            digest.update(block)
    return digest.hexdigest()


def run_page_check(workspace, payload, report):
    from playwright.sync_api import sync_playwright

    folder = workspace.path("duplicate-page")
    size = payload.stat().st_size
    with UploadServer(folder, workspace.redis_url) as server:
        app = create_app({"SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"], "REDIS_URL": server.env["REDIS_URL"],
                          "INSTANCE_PATH": server.env["INSTANCE_PATH"], "SECRET_KEY": server.env["SECRET_KEY"]})
        sha256 = _sha256_of(payload)
        with app.app_context():
            owner = db.session.scalar(sa.select(User).where(User.email == EMAIL))
            name = "Lecture already here.webm"
            db.session.add(MediaFile(owner_id=owner.id, name=name, name_key=name.lower(), search_text=name.lower(),
                                     original_name=name, kind="video", mime_type="video/webm", size_bytes=size,
                                     sha256=sha256, storage_key=content_key(owner.id, sha256), status="ready",
                                     ready_at=utcnow()))
            db.session.commit()
            db.engine.dispose()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(base_url=server.url)
            page.goto("/login")
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.get_by_role("heading", name="Media library").wait_for()
            page.wait_for_load_state()
            uploads, checks = [], []
            page.on("request", lambda request: (
                uploads.append(request.url) if ("/media/upload" in request.url or "/uploads/" in request.url) else
                checks.append(len(request.post_data_buffer or b"")) if "/media/duplicates/check" in request.url
                else None))
            started = time.perf_counter()
            page.set_input_files("#upload-input", str(payload))
            page.locator("#operation-list").get_by_text("Already in your library as").wait_for(timeout=600_000)
            seconds = time.perf_counter() - started
            browser.close()
    sent = sum(checks)
    throughput = size / MiB / seconds
    report.details["duplicate_page_check"] = {"seconds": seconds, "mib_per_s": throughput, "upload_requests": uploads,
                                              "check_bytes": sent}
    report.add(Check(f"a duplicate {size // MiB:,} MiB file chosen in the page (Chromium, hash-wasm)",
                     f"“Already in your library” after {seconds:.1f} s (hashing {throughput:,.0f} MiB/s); "
                     f"{len(uploads)} upload requests, {sent:,} bytes sent (the check)",
                     f"≤ {MAX_SENT // MiB} MiB sent", not uploads and sent <= MAX_SENT,
                     {"seconds": seconds, "mib_per_s": throughput, "sent": sent}))


TUS_CHUNK = 64 * MiB


def run_tus_detection(workspace, payload, report):
    """The payload sent again with tus (64 MiB PATCHes) to gunicorn while the library holds it, stored:
    the bytes the web process reads back from disk during the whole upload (the hash is kept up as the
    PATCHes arrive; it read the whole part file at the last PATCH), then a worker: the new row is a
    duplicate and the stored object is not written again."""
    import base64
    import shutil
    import subprocess
    import sys

    import psutil

    from .services import PROJECT_ROOT

    folder = workspace.path("duplicate-tus")
    size = payload.stat().st_size
    with UploadServer(folder, workspace.redis_url) as server:
        app = create_app({"SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"], "REDIS_URL": server.env["REDIS_URL"],
                          "INSTANCE_PATH": server.env["INSTANCE_PATH"], "SECRET_KEY": server.env["SECRET_KEY"],
                          "STORAGE_ROOT": server.env["STORAGE_ROOT"]})
        sha256 = _sha256_of(payload)
        with app.app_context():
            owner = db.session.scalar(sa.select(User).where(User.email == EMAIL))
            key = content_key(owner.id, sha256)
            stored = PROJECT_ROOT / server.env["STORAGE_ROOT"] / key
            stored.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(payload, stored)
            name = "Lecture already here.webm"
            db.session.add(MediaFile(owner_id=owner.id, name=name, name_key=name.lower(), search_text=name.lower(),
                                     original_name=name, kind="video", mime_type="video/webm", size_bytes=size,
                                     sha256=sha256, storage_key=key, status="ready", ready_at=utcnow()))
            db.session.commit()
        written_at = stored.stat().st_mtime_ns
        session = server.logged_in_session()
        headers = {"Tus-Resumable": "1.0.0", "X-CSRFToken": session.csrf_token}
        web = psutil.Process(server.worker_pid)
        before = web.io_counters().read_chars
        metadata = "filename " + base64.b64encode(b"lecture again.webm").decode()
        created = session.post(server.url + "/uploads/", headers={**headers, "Upload-Length": str(size),
                                                                  "Upload-Metadata": metadata})
        location = created.headers["Location"]
        started = time.perf_counter()
        with open(payload, "rb") as source:
            offset = 0
            while chunk := source.read(TUS_CHUNK):
                answer = session.patch(location, data=chunk, headers={
                    **headers, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
                if answer.status_code != 204:
                    raise RuntimeError(f"PATCH at {offset} answered {answer.status_code}: {answer.text[:200]}")
                offset += len(chunk)
        seconds = time.perf_counter() - started
        read_back = web.io_counters().read_chars - before
        worker = subprocess.run([sys.executable, "worker.py", "--queues", "uploads", "--burst"], env=server.env,
                                cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
        with app.app_context():
            copy = db.session.scalars(sa.select(MediaFile).order_by(MediaFile.id.desc()).limit(1)).one()
            outcome = (copy.status, copy.duplicate_of_id is not None)
            db.engine.dispose()
        rewritten = stored.stat().st_mtime_ns != written_at

    report.details["duplicate_tus"] = {"read_back_bytes": read_back, "seconds": seconds, "status": outcome[0],
                                       "marked": outcome[1], "stored_again": rewritten, "worker_rc": worker.returncode}
    report.add(Check(f"a duplicate {size // MiB:,} MiB tus upload (64 MiB PATCHes) recognised on the server",
                     f"{read_back / MiB:,.1f} MiB read back from disk by the web process in the upload "
                     f"({size / MiB / seconds:,.0f} MiB/s); {outcome[0]}, marked a duplicate: {outcome[1]}; "
                     f"stored object written again: {rewritten}",
                     "≤ 1 MiB read back (SQLite pages; no re-read of the file), no second transfer",
                     read_back <= MiB and outcome == ("ready", True) and not rewritten,
                     {"read_back": read_back}))


def _variant(payload, folder, number):
    """The payload with its last 8 bytes set to `number`: the same size and kind, other content."""
    import shutil
    path = folder / f"variant-{number}.webm"
    shutil.copyfile(payload, path)
    with open(path, "r+b") as out:
        out.seek(-8, 2)
        out.write(number.to_bytes(8, "big"))
    return path


def run_replace(workspace, payload, report, rounds):
    """Replace of a 1 GiB video against a fresh upload of a file like it: from the request to Ready,
    through gunicorn and a worker process (burst) each time; the two alternate, each with new content."""
    import subprocess
    import sys
    from urllib.parse import quote

    from .report import median
    from .services import PROJECT_ROOT

    folder = workspace.path("replace")
    size = payload.stat().st_size
    fresh_times, replace_times = [], []
    with UploadServer(folder, workspace.redis_url) as server:
        session = server.logged_in_session()
        app = create_app({"SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"], "REDIS_URL": server.env["REDIS_URL"],
                          "INSTANCE_PATH": server.env["INSTANCE_PATH"], "SECRET_KEY": server.env["SECRET_KEY"]})

        def send(url, path, name):
            started = time.perf_counter()
            with open(path, "rb") as body:
                answer = session.post(server.url + url, data=body, headers={
                    "X-CSRFToken": session.csrf_token, "X-Filename": quote(name),
                    "Content-Type": "application/octet-stream", "X-Requested-With": "XMLHttpRequest",
                    "Content-Length": str(size)})
            if answer.status_code != 201:
                raise RuntimeError(f"{url} answered {answer.status_code}: {answer.text[:300]}")
            worker = subprocess.run([sys.executable, "worker.py", "--queues", "uploads", "--burst"], env=server.env,
                                    cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
            seconds = time.perf_counter() - started
            if worker.returncode != 0:
                raise RuntimeError(worker.stderr[-2000:])
            return seconds

        for number in range(rounds):
            fresh = _variant(payload, folder, 2 * number)
            fresh_times.append(send("/media/upload", fresh, f"lecture {number}.webm"))
            fresh.unlink()
            with app.app_context():
                media = db.session.scalars(sa.select(MediaFile).order_by(MediaFile.id.desc()).limit(1)).one()
                media_id, status = media.id, media.status
                db.session.remove()
            if status != "ready":
                raise RuntimeError(f"the fresh upload ended {status}")
            retake = _variant(payload, folder, 2 * number + 1)
            replace_times.append(send(f"/media/{media_id}/replace", retake, f"lecture {number} retake.webm"))
            retake.unlink()
            with app.app_context():
                versions = db.session.scalar(sa.text("SELECT count(*) FROM media_versions WHERE media_id = :id "
                                                     "AND number IS NOT NULL"), {"id": media_id})
                db.session.remove()
            if versions != 2:
                raise RuntimeError(f"the replacement did not become version 2 ({versions} versions)")
            print(f"  round {number + 1}/{rounds}: fresh {fresh_times[-1]:.1f} s, replace {replace_times[-1]:.1f} s",
                  flush=True)
        with app.app_context():
            db.engine.dispose()
    fresh_s, replace_s = median(fresh_times), median(replace_times)
    ratio = replace_s / fresh_s
    report.details["replace_vs_fresh"] = {"fresh": fresh_times, "replace": replace_times}
    report.add(Check(f"replace of a {size // MiB:,} MiB video, request to ready, against a fresh upload",
                     f"replace {replace_s:.1f} s, fresh {fresh_s:.1f} s (medians of {rounds}): {ratio:.2f} ×",
                     "≤ 1.1 ×", ratio <= 1.1, {"ratio": ratio}))
