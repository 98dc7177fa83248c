"""A worker frozen and then killed in the middle of moving an upload to the bucket: as soon as its
heartbeat is missed the panel says "The worker stopped; trying again" (instead of a frozen
percentage), the maintenance round gives the upload to a new job, and the file ends Ready once, with
its bytes in the bucket and no unfinished parts left behind. Real worker processes, moto's S3 server over HTTP."""
import os
import shutil
import signal
import time

import boto3
import psutil
import sqlalchemy as sa

from mediamgr import create_app
from mediamgr.extensions import db
from mediamgr.jobs.maintenance import run_maintenance
from mediamgr.library.models import MediaEvent, MediaFile
from mediamgr.progress.models import Operation
from mediamgr.progress.publisher import latest_states
from mediamgr.storage import get_storage

from helpers import Browser, base_config, start_worker

MiB = 1024**2


def test_an_upload_whose_worker_died_mid_transfer_says_so_and_is_finished_by_another(
        s3_settings, tmp_path, redis_url, sqlite_template, samples):
    shutil.copyfile(sqlite_template, tmp_path / "db.sqlite3")
    app = create_app({**base_config(tmp_path, redis_url, f"sqlite:///{tmp_path / 'db.sqlite3'}"), **s3_settings,
                      "BULK_STALE_SECONDS": 2})
    log_path = tmp_path / "workers.log"
    bucket = boto3.client("s3", endpoint_url=s3_settings["S3_ENDPOINT_URL"], aws_access_key_id="test",
                          aws_secret_access_key="test", region_name="us-east-1")
    with app.app_context():
        ada = Browser(app).sign_in("ada@example.com")
        content = samples.video_bytes(seconds=1) + b"\0" * (250 * MiB)  # moto takes seconds over this
        assert ada.upload("lecture.webm", content).status_code == 201
        operation_id = db.session.scalar(sa.select(Operation.id))

        def current():
            db.session.rollback()
            return db.session.get(Operation, operation_id, populate_existing=True)

        first = start_worker(app, log_path, queues=("uploads",), BULK_STALE_SECONDS="2")
        family = [first.pid]
        try:
            deadline = time.monotonic() + 60
            while current().stage != "transferring" or not bucket.list_multipart_uploads(
                    Bucket=s3_settings["S3_BUCKET"]).get("Uploads"):  # parts on their way
                assert time.monotonic() < deadline and current().status != "succeeded", log_path.read_text()[-3000:]
                time.sleep(0.01)
            family = [first.pid] + [child.pid for child in psutil.Process(first.pid).children(recursive=True)]
            for pid in family:
                os.kill(pid, signal.SIGSTOP)
            time.sleep(2.5)  # past BULK_STALE_SECONDS without a heartbeat
            run_maintenance()
            stuck = current()
            assert (stuck.status, stuck.stage, stuck.error) == ("queued", "retrying", "The worker stopped; trying again.")
            assert latest_states([stuck])[operation_id]["error"] == "The worker stopped; trying again."  # what the panel shows
        finally:
            for pid in family:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            first.wait()
        second = start_worker(app, log_path, queues=("uploads",), burst=True)
        assert second.wait(timeout=120) == 0, log_path.read_text()[-3000:]
        media = db.session.scalars(sa.select(MediaFile)).one()
        db.session.refresh(media)
        assert media.status == "ready" and current().status == "succeeded"
        assert get_storage().exists(media.storage_key)
        # The parts the killed transfer had sent are cancelled by the attempt that took over (B2 would keep
        # and bill them until the hourly sweep, hours later).
        assert bucket.list_multipart_uploads(Bucket=s3_settings["S3_BUCKET"]).get("Uploads", []) == []
        assert "unfinished upload(s) of an earlier attempt" in log_path.read_text()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaEvent)
                                 .where(MediaEvent.action == "failed")) == 0
        db.session.remove()
        db.engine.dispose()
