"""Uploads cannot be used to hold the server: one user's unfinished resumable uploads are bounded in
number (RESUMABLE_UPLOADS_PER_USER) and in the bytes they reserve (RESUMABLE_RESERVED_BYTES), and
the maintenance round sweeps staging files that nothing will use."""
import os
import time
from pathlib import Path

from mediamgr.extensions import db
from mediamgr.jobs.maintenance import run_maintenance
from mediamgr.progress.models import Operation
from mediamgr.upload.tus import part_path

from helpers import Browser
from test_tus import TUS, metadata


def start(browser, length, name="lecture.mp4"):
    return browser.client.post("/uploads/", headers={**TUS, "X-CSRFToken": browser.token,
                                                      "Upload-Length": str(length),
                                                      "Upload-Metadata": metadata(name, "video/mp4")})


def test_unfinished_resumable_uploads_are_bounded_per_user(app, ada):
    app.config["RESUMABLE_UPLOADS_PER_USER"] = 3
    first = [start(ada, 1000) for _ in range(3)]
    assert [answer.status_code for answer in first] == [201, 201, 201], [a.get_data(as_text=True) for a in first]
    refused = start(ada, 1000)
    assert refused.status_code == 429
    assert "You have 3 unfinished uploads. Finish or cancel some of them" in refused.get_data(as_text=True)
    assert start(Browser(app).sign_in("ben@example.com"), 1000).status_code == 201  # hers are not his
    cancelled = ada.client.delete(first[0].headers["Location"], headers={**TUS, "X-CSRFToken": ada.token})
    assert cancelled.status_code == 204
    assert start(ada, 1000).status_code == 201


def test_the_bytes_unfinished_uploads_reserve_are_bounded_per_user(app, ada):
    app.config["RESUMABLE_RESERVED_BYTES"] = 10 * 1024**2
    assert start(ada, 6 * 1024**2).status_code == 201
    refused = start(ada, 5 * 1024**2)
    assert refused.status_code == 413
    assert "already reserve 6.0 MiB; with this one they would pass the 10 MiB allowed" in refused.get_data(as_text=True)


def aged(path, content=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    past = time.time() - 2 * 3600
    os.utime(path, (past, past))
    return path


def test_the_maintenance_round_sweeps_staging_files_nothing_will_use(app, ada, worker, samples):
    staging = Path(app.config["STAGING_DIR"])
    ada.upload("broken.webm", samples.video_bytes(seconds=1)[:200] + b"\0" * 5000)  # fails for good
    worker()
    hopeless = db.session.scalars(db.select(Operation)).one()
    assert hopeless.status == "failed" and hopeless.details["retryable"] is False
    hopeless_bytes = aged(staging / f"operation-{hopeless.id}.bin")
    died_mid_request = aged(staging / "incoming-abc123.part")
    writing_now = staging / "incoming-def456.part"
    writing_now.write_bytes(b"arriving")
    no_upload_owns_it = aged(part_path("0" * 32))
    unknown_operation = aged(staging / "operation-999999.bin")

    run_maintenance()
    assert not hopeless_bytes.exists() and not died_mid_request.exists()
    assert not no_upload_owns_it.exists() and not unknown_operation.exists()
    assert writing_now.exists()  # a request is still writing it
