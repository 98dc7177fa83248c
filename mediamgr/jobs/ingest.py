"""The upload job: move the staged bytes to storage, probe them, make a thumbnail, mark the file Ready.

Safe to run twice: a finished operation is left alone, storing under a content-addressed key is
idempotent, and the staging file is removed only after the Ready state is committed.
"""
import logging
import tempfile
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from rq import get_current_job
from rq.exceptions import AbandonedJobError

from ..auth.models import User
from ..courses.service import link_uploaded
from ..extensions import db
from ..history import record_event
from ..library.models import MediaFile, MediaVersion
from ..library.versions import first_version, kind_mismatch, make_current, replacement_of
from ..progress.models import Operation
from ..progress.publisher import ProgressReporter, publish_operation
from ..storage import get_storage, thumbnail_key
from ..storage.base import StorageError
from ..timeutil import utcnow
from ..video.analysis import enqueue_analysis
from . import with_app_context
from .previews import store_document_pages
from .budgets import OverBudget, too_large_for_memory
from .heartbeat import Heartbeat
from .probe import MediaUnreadable, probe_media
from .thumbnails import make_thumbnail, save_thumbnail

log = logging.getLogger(__name__)


STORAGE_RETRYING = "Storage did not answer; trying again."
STORAGE_FAILED = ("Could not store the file: the storage service did not take it. The upload is kept; "
                  "press Retry in a moment.")
STOPPED = "Processing stopped unexpectedly. Press Retry to try again."
WORKER_STOPPED = "The worker stopped; trying again."


class UploadLost(Exception):
    """Neither the staging file nor a stored copy exists any more."""


@with_app_context
def process_upload(operation_id):
    operation = db.session.get(Operation, operation_id)
    if operation is None or operation.status == "succeeded" or _superseded(operation):
        return
    media = operation.media
    if media is None:
        _finish(operation, "failed", error="The file was deleted before it was processed.")
        return
    version = replacement_of(operation)  # a new content for the file: processed on its own row
    if version is None and "version_id" in operation.details:
        _finish(operation, "failed", error="The file was deleted before its new content was processed.")
        return
    target = version or media
    _start(operation)
    reporter = ProgressReporter(operation)
    reporter.report()
    try:
        with Heartbeat(operation_id), _LocalCopy(operation, target) as local_path:
            _transfer(operation, target, local_path, reporter)
            _probe(operation, target, local_path, reporter)
            if version is not None and version.kind != media.kind:  # the bytes said more than their first bytes
                raise MediaUnreadable(kind_mismatch(version.original_name, version.kind, media.kind))
            _thumbnail(operation, target, local_path, reporter)
            if version is None:
                _document_pages(media, local_path)
    except StorageError as error:
        log.warning("operation %s: storage failed: %s", operation_id, error)
        if error.transient and _will_retry():
            _note_retry(operation, reporter, STORAGE_RETRYING)
            raise
        mark_upload_failed(operation_id, STORAGE_FAILED)
        return
    except (MediaUnreadable, OverBudget, UploadLost) as error:  # the same bytes will never do: no Retry
        mark_upload_failed(operation_id, str(error), retryable=False)
        return
    except MemoryError:  # past the work horse's memory limit (JOB_MEMORY_LIMIT_BYTES)
        log.warning("operation %s: out of memory", operation_id)
        mark_upload_failed(operation_id, str(too_large_for_memory()), retryable=False)
        return
    db.session.refresh(operation)
    if _superseded(operation):  # this worker stalled and the upload was given to another job meanwhile
        log.warning("upload operation %s: taken over by job %s; this job stops", operation_id, operation.job_id)
        return
    _mark_ready(operation, media, version)
    enqueue_analysis(media)  # quality report and chapters, on the processing queue
    if version is not None:  # the new content's page images (the old ones went with the old content)
        _replaced_document_pages(operation, media)
    _remove_staging(operation)


def _superseded(operation):
    job = get_current_job()
    return bool(job and operation.job_id and operation.job_id != job.id)


def _start(operation):
    operation.details = {**(operation.details or {}), "attempts": (operation.details or {}).get("attempts", 0) + 1}
    operation.status = "running"
    operation.stage = "transferring"
    operation.error = None
    operation.started_at = operation.started_at or utcnow()
    operation.heartbeat_at = utcnow()
    db.session.commit()


class _LocalCopy:
    """The staged file, or (on a retry after it was cleaned up) a copy fetched back from storage."""

    def __init__(self, operation, media):
        self.staging = Path(operation.details.get("staging", ""))
        self.media_key = media.storage_key
        self.temp_dir = None

    def __enter__(self):
        if self.staging.is_file():
            return self.staging
        storage = get_storage()
        if not storage.exists(self.media_key):
            raise UploadLost("The uploaded bytes are no longer available. Please upload the file again.")
        self.temp_dir = tempfile.TemporaryDirectory(prefix="mediamgr-fetch-")
        path = Path(self.temp_dir.name) / "media"
        storage.download_to(self.media_key, path)
        return path

    def __exit__(self, *exc):
        if self.temp_dir:
            self.temp_dir.cleanup()


def _transfer(operation, media, local_path, reporter):
    total = media.size_bytes
    key, mime = media.storage_key, media.mime_type

    def on_progress(done):
        reporter.report(must_deliver=False, stage="transferring", processed=done, total=total)

    db.session.commit()  # hold no transaction open while the bytes move
    storage = get_storage()
    if _stored_already(target_row=media, key=key):
        log.info("operation %s: %s is stored already (the same content); not sent again", operation.id, key)
    else:
        if operation.details.get("attempts", 1) > 1 and not _stored_by_another_job(operation, key):
            # An earlier attempt that was killed (or lost its storage mid-way) may have left parts behind.
            if cancelled := storage.abort_abandoned_uploads(timedelta(0), key=key):
                log.warning("operation %s: cancelled %s unfinished upload(s) of an earlier attempt", operation.id,
                            cancelled)
        storage.put_file(key, local_path, mime, on_progress)
    operation.processed = total
    operation.stage = "probing"
    db.session.commit()
    reporter.sync(operation)
    reporter.report()


def _stored_already(target_row, key):
    """Whether another ready file or version stores its bytes under `key` (a duplicate, or the content of
    an earlier version again) and storage has them: content addressing makes the key the same, so
    they are not sent a second time. While this row exists, no pending deletion removes that key."""
    is_file = isinstance(target_row, MediaFile)
    other_file = db.session.scalar(sa.select(MediaFile.id).where(
        MediaFile.storage_key == key, MediaFile.ready_at.is_not(None),
        MediaFile.id != target_row.id if is_file else sa.true()).limit(1))
    other_version = other_file or db.session.scalar(sa.select(MediaVersion.id).where(
        MediaVersion.storage_key == key, MediaVersion.status == "ready",
        MediaVersion.id != target_row.id if not is_file else sa.true()).limit(1))
    db.session.commit()
    return bool(other_file or other_version) and get_storage().exists(key)


def _stored_by_another_job(operation, key):
    """Whether another upload of the same bytes (same owner, same content) is being stored right now:
    its unfinished parts are its own, not leftovers."""
    return bool(db.session.scalar(
        sa.select(sa.func.count()).select_from(Operation).join(MediaFile, MediaFile.id == Operation.media_id)
        .where(Operation.id != operation.id, Operation.kind == "upload", Operation.status == "running",
               MediaFile.storage_key == key)))


def _probe(operation, media, local_path, reporter):
    facts = probe_media(local_path, media.kind)
    media.kind = facts.kind
    media.duration_seconds = facts.duration_seconds
    media.width, media.height = facts.width, facts.height
    media.video_codec, media.audio_codec = facts.video_codec, facts.audio_codec
    media.page_count = facts.pages
    operation.stage = "thumbnail"
    db.session.commit()
    reporter.sync(operation)
    reporter.report()


def _thumbnail(operation, media, local_path, reporter):
    try:
        image = make_thumbnail(local_path, media.kind, media.duration_seconds)
    except Exception:  # a thumbnail is a nicety: the file is still usable without one
        log.exception("no thumbnail for media %s", media.id)
        image = None
    if image is None:
        return
    key = thumbnail_key(media.owner_id, media.sha256)
    with tempfile.TemporaryDirectory(prefix="mediamgr-thumb-") as temp_dir:
        path = Path(temp_dir) / "thumbnail.webp"
        save_thumbnail(image, path)
        db.session.commit()
        get_storage().put_file(key, path, "image/webp")
    media.thumbnail_key = key
    db.session.commit()


def _document_pages(media, local_path):
    try:
        store_document_pages(media, local_path)
    except StorageError:
        raise
    except Exception:  # like a thumbnail: the file is usable without page images (the details say so)
        db.session.rollback()
        log.exception("no page images for media %s", media.id)


def _replaced_document_pages(operation, media):
    """Page images of a document's new content, from the staged bytes; without them (a retry that had
    to fetch the bytes), the details queue them when they are opened."""
    staging = Path(operation.details.get("staging", ""))
    if media.kind == "document" and staging.is_file():
        try:
            store_document_pages(media, staging)
        except Exception:  # the content is current already: its pages can be made later
            db.session.rollback()
            log.exception("no page images for media %s", media.id)


def _mark_ready(operation, media, version=None):
    """The file is ready; or, for a replacement, its new content becomes the current version."""
    actor = db.session.get(User, operation.owner_id)
    if version is not None:
        make_current(version, actor)
    else:
        media.ready_at = utcnow()
        media.failure_reason = None
        if media.status == "processing":  # a file trashed meanwhile stays in the trash
            media.status = "ready"
        first_version(media, operation.owner_id)
        if media.duplicate_of is not None and not media.duplicate_of.in_trash:  # the panel offers the choice
            operation.details = {**operation.details,
                                 "duplicate_of": {"id": media.duplicate_of.id, "name": media.duplicate_of.name}}
    operation.stage = "ready"
    if operation.details.get("link_chapter_id"):
        link_uploaded(media, operation.details["link_chapter_id"], actor)
    _finish(operation, "succeeded")


def _finish(operation, status, error=None):
    operation.status = status
    operation.error = error
    operation.finished_at = utcnow()
    db.session.commit()
    publish_operation(operation)


def _will_retry():
    job = get_current_job()
    return bool(job and job.retries_left)


def _note_retry(operation, reporter, message):
    operation.stage = "retrying"
    operation.error = message
    db.session.commit()
    reporter.sync(operation)
    reporter.report()


def _remove_staging(operation):
    staging = operation.details.get("staging")
    if staging:
        Path(staging).unlink(missing_ok=True)


def mark_upload_failed(operation_id, reason, retryable=True):
    """Mark the upload's file and operation Failed with a reason the user can act on; a failure that
    Retry cannot mend (`retryable` False: the bytes cannot be read) offers no Retry."""
    db.session.rollback()
    operation = db.session.get(Operation, operation_id)
    if operation is None or operation.is_finished:
        return
    media = operation.media
    version = replacement_of(operation)
    if version is not None:  # the file keeps its current content
        version.status, version.failure_reason = "failed", reason
        record_event(media, "replace_failed", f"Replacing with “{version.original_name}” failed: {reason}", None,
                     {"reason": reason})
    elif media is not None:
        media.failure_reason = reason
        if media.status == "processing":
            media.status = "failed"
        record_event(media, "failed", f"Processing failed: {reason}", None, {"reason": reason})
    operation.stage = "failed"
    operation.details = {**(operation.details or {}), "retryable": retryable}
    _finish(operation, "failed", error=reason)


@with_app_context
def upload_job_failed(job, connection, exc_type, exc_value, traceback):
    """RQ's on_failure: an unexpected error, or the last retry, leaves the upload Failed, never stuck."""
    if job.should_retry:
        return
    if exc_type is AbandonedJobError:  # its worker died: the maintenance round queues it again
        log.warning("upload operation %s: its worker stopped; it will be queued again", job.args[0])
        return
    log.error("upload operation %s stopped by %s: %s", job.args[0], exc_type.__name__, exc_value)
    mark_upload_failed(job.args[0], STOPPED)
