"""When storage or the queue fails: transient errors are retried, a final failure says why and
offers Retry, and nothing the user uploaded is lost."""
import re
import shutil
from pathlib import Path

import pytest

from helpers import base_config
from mediamgr import create_app
from mediamgr.extensions import db
from mediamgr.library.models import MediaEvent, MediaFile
from mediamgr.progress.models import Operation


@pytest.fixture
def broken_storage(app):
    """A storage root that cannot be created (a file stands in its way): writes fail for real."""
    root = Path(app.config["STORAGE_ROOT"])
    root.parent.mkdir(parents=True, exist_ok=True)
    root.write_text("not a directory")
    app.config["UPLOAD_RETRY_INTERVALS"] = [0, 0]  # retry at once, so one burst sees every attempt

    def repair():
        root.unlink()
        root.mkdir()
    return repair


def test_storage_errors_are_retried_then_fail_with_the_reason_and_retry_succeeds(ada, worker, samples, broken_storage):
    ada.upload("clip.webm", samples.video_bytes(seconds=1))
    worker()
    media = db.session.scalars(db.select(MediaFile)).one()
    operation = db.session.scalars(db.select(Operation)).one()
    assert media.status == "failed" and "Could not store the file" in media.failure_reason
    assert operation.status == "failed" and operation.error == media.failure_reason
    assert not re.search(r"/|Errno|errno|\[\d+\]|Not a directory|File exists", media.failure_reason), media.failure_reason
    assert [e.action for e in db.session.scalars(db.select(MediaEvent).order_by(MediaEvent.id))] == ["uploaded", "failed"]
    html = ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True)
    assert "Retry processing" in html and "Could not store the file" in html

    broken_storage()
    response = ada.post(f"/operations/{operation.id}/retry")
    assert response.status_code == 200 and "media-changed" in response.headers["HX-Trigger"]
    worker()
    db.session.refresh(media)
    assert media.status == "ready" and media.failure_reason is None


def test_a_corrupt_video_fails_with_a_message_the_user_understands_and_no_retry(ada, worker, samples):
    content = samples.video_bytes(seconds=1)
    ada.upload("broken.webm", content[:200] + b"\x00" * 5000)
    worker()
    media = db.session.scalars(db.select(MediaFile)).one()
    operation = db.session.scalars(db.select(Operation)).one()
    assert media.status == "failed"
    assert media.failure_reason == "The video could not be read: it is damaged or not a video."
    history = db.session.scalars(db.select(MediaEvent.description).where(MediaEvent.action == "failed")).one()
    assert "staging" not in history and "Errno" not in history and "/" not in history.replace("/or", "")
    details = ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True)
    row = ada.get(f"/operations/{operation.id}", htmx=True).get_data(as_text=True)
    assert "Retry" not in details and "Retry" not in row  # it can never succeed: upload it again instead
    refused = ada.post(f"/operations/{operation.id}/retry")
    assert refused.status_code == 409 and "upload it again" in refused.get_data(as_text=True)


def test_queue_unavailable_keeps_the_file_and_says_so(tmp_path, sqlite_template, redis_url, samples):
    from helpers import Browser
    from mediamgr.cli import ensure_user

    shutil.copyfile(sqlite_template, tmp_path / "db.sqlite3")
    app = create_app({**base_config(tmp_path, redis_url, f"sqlite:///{tmp_path / 'db.sqlite3'}"),
                      "REDIS_URL": "redis://127.0.0.1:1/0"})
    with app.app_context():
        ensure_user("ada@example.com", "correct-horse-battery", "Ada", "instructor")
        ada = Browser(app).login("ada@example.com")
        response = ada.upload("photo.png", samples.png_bytes())
        assert response.status_code == 201
        assert "background service is unavailable" in response.get_data(as_text=True)
        media = db.session.scalars(db.select(MediaFile)).one()
        assert media.status == "failed" and len(list(Path(app.config["STAGING_DIR"]).iterdir())) == 1
        assert ada.get("/media").status_code == 200  # browsing still works without Redis
        db.session.remove()
