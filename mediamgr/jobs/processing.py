"""The processing job (video.processing queues it): fetch the file, run the transform with its
progress in the operation's row and a Cancel that stops it, and deliver the result through the upload
path (the file's next version, or a new file) or as the file's web rendition."""
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from ..auth.models import User
from ..extensions import db
from ..library.models import MediaFile, Rendition
from ..library.quotas import OverQuota
from ..library.service import EditRefused
from ..library.versions import ReplaceRefused
from ..progress.models import Operation
from ..progress.publisher import ProgressReporter
from ..storage import get_storage, rendition_key
from ..timeutil import utcnow
from ..upload.names import split_extension
from ..upload.request import new_staged_file
from ..upload.service import RejectedFile, accept_staged_file
from ..video.processing import (CHECK_CANCEL_EVERY, JOBS, SAME_CONTENT, TARGET_LUFS, WEB_SPEC, finish_processing,
                         web_rendition_of)
from ..video.quality import measure_loudness
from ..video.transforms import (ProcessingFailed, ProcessingStopped, extract_audio, normalise_loudness, output_suffix, trim,
                         watermark, web_rendition)
from . import with_app_context
from .heartbeat import Heartbeat


@with_app_context
def run_processing(operation_id):
    operation = db.session.get(Operation, operation_id)
    if operation is None or operation.is_finished:
        return
    media = operation.media
    action, params = operation.details["action"], operation.details.get("params", {})
    if media is None or media.in_trash or (action in SAME_CONTENT and media.sha256 != operation.details["sha256"]):
        finish_processing(operation, "failed", "The file was changed, moved to the trash or deleted meanwhile: nothing was done.")
        return
    operation.details = {**operation.details, "sha256": media.sha256}  # the content it works on
    if operation.cancel_requested:
        finish_processing(operation, "cancelled")
        return
    operation.status, operation.stage, operation.started_at = "running", "processing", utcnow()
    db.session.commit()
    reporter = ProgressReporter(operation)
    reporter.report()
    watch = _Watch(operation_id, reporter)
    try:
        with Heartbeat(operation_id), tempfile.TemporaryDirectory(prefix="mediamgr-processing-") as folder:
            source = Path(folder) / "source"
            get_storage().download_to(media.storage_key, source)
            made = Path(folder) / ("result" + output_suffix(source))
            _transform(action, params, media, source, made, folder, watch)
            db.session.rollback()
            _deliver(operation, action, made)
    except ProcessingStopped:
        finish_processing(operation, "cancelled")
    except (ProcessingFailed, RejectedFile, ReplaceRefused, OverQuota, EditRefused) as refusal:
        db.session.rollback()
        finish_processing(operation, "failed", str(refusal))


def _transform(action, params, media, source, made, folder, watch):
    run = {"progress": watch.progress, "should_stop": watch.should_stop}
    if action == "trim":
        trim(source, made, params["start"], params["end"], **run)
    elif action == "normalise":
        measured = measure_loudness(source).integrated_lufs
        if measured is None:
            raise ProcessingFailed("The file is silent: there is no loudness to normalise.")
        normalise_loudness(source, made, gain_db=TARGET_LUFS - measured, **run)
    elif action == "watermark":
        image = db.session.get(MediaFile, params["image_id"])
        if image is None or image.kind != "image" or image.owner_id != media.owner_id or image.in_trash:
            raise ProcessingFailed("The watermark image is no longer in the library.")
        logo = Path(folder) / ("logo" + split_extension(image.name)[1])
        get_storage().download_to(image.storage_key, logo)
        watermark(source, made, logo, corner=params["corner"], opacity=params["opacity"], **run)
    elif action == "extract_audio":
        extract_audio(source, made, **run)
    else:
        web_rendition(source, made, **run)


def _deliver(operation, action, made):
    """The result into the library: the file's next version, a new file, or its web rendition."""
    media = db.session.get(MediaFile, operation.media_id)
    if media is None or media.sha256 != operation.details["sha256"]:
        raise ProcessingFailed("The file was changed or deleted meanwhile: the result was not kept.")
    actor = db.session.get(User, operation.details.get("actor_id")) or media.owner
    stem = split_extension(media.name)[0]
    result = JOBS[action][2]
    if result == "web":
        key = rendition_key(media.owner_id, media.sha256, WEB_SPEC).rsplit(".", 1)[0] + made.suffix
        get_storage().put_file(key, made, "video/mp4" if made.suffix == ".mp4" else "audio/mp4")
        row = web_rendition_of(media) or Rendition(media_id=media.id, spec=WEB_SPEC, storage_key=key, width=0, height=0,
                                                   size_bytes=0)
        row.storage_key, row.size_bytes = key, made.stat().st_size
        db.session.add(row)
        operation.details = {**operation.details, "result": "Plays in every browser now; the original stays the download."}
        finish_processing(operation, "succeeded")
        return
    suffix = {"trim": "trimmed", "normalise": "normalised", "watermark": "watermarked", "extract_audio": "audio"}[action]
    staged = new_staged_file(f"{stem} ({suffix}){made.suffix}", made.stat().st_size)
    with open(made, "rb") as stream:
        staged.copy_from(stream)
    upload = accept_staged_file(actor, staged, replacing=media if result == "version" else None)
    operation.details = {**operation.details, "upload_id": upload.id,
                         "result": "Becomes the file's next version once it is stored." if result == "version"
                         else "Added to the library as a new file."}
    if result == "new":
        operation.details["new_media_id"] = upload.media_id
    finish_processing(operation, "succeeded")


def processing_job_failed(job, connection, exc_type, exc_value, traceback):
    """RQ's last word on a job that raised or timed out: the operation says it failed (Retry)."""
    _mark_failed(job.args[0], job.id)


@with_app_context
def _mark_failed(operation_id, job_id):
    operation = db.session.get(Operation, operation_id)
    if operation is not None and not operation.is_finished and operation.job_id == job_id:
        finish_processing(operation, "failed", "Processing stopped unexpectedly. Press Retry to try again.")


class _Watch:
    """The transform's progress goes to the operation's row (and the panel); a Cancel there stops it."""

    def __init__(self, operation_id, reporter):
        self.operation_id, self.reporter = operation_id, reporter
        self.checked = 0.0
        self.stop = False
        self.engine = db.engine

    def progress(self, fraction):
        percent = max(0, min(99, int(fraction * 100)))
        self.reporter.report(must_deliver=False, processed=percent, stage="processing")

    def should_stop(self):
        now = time.monotonic()
        if not self.stop and now - self.checked >= CHECK_CANCEL_EVERY:
            self.checked = now
            with self.engine.connect() as connection:
                self.stop = bool(connection.scalar(sa.select(Operation.cancel_requested)
                                                   .where(Operation.id == self.operation_id)))
        return self.stop
