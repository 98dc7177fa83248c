"""From a staged file to a media row, an operation and a queued job; and back to the queue when
that job was lost."""
import logging
import time
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..jobs.ingest import STOPPED, WORKER_STOPPED, mark_upload_failed
from ..jobs.queues import enqueue_upload_processing, job_is_live
from ..library.models import MediaFile
from ..history import record_event
from ..library.duplicates import existing_copy
from ..library.quotas import OverQuota, ensure_room
from ..library.trash import referenced_keys
from ..library.service import EditRefused
from ..library.versions import ReplaceRefused, check_replacement, pending_version, replacement_of
from ..progress.models import ACTIVE, Operation
from ..progress.publisher import publish_operation
from ..storage import content_key
from .names import sanitize_filename
from .sniff import RejectedFile, classify, default_extension
from ..timeutil import utcnow

log = logging.getLogger(__name__)
MAX_RECOVERIES = 3


def staging_path(operation_id):
    return Path(current_app.config["STAGING_DIR"]) / f"operation-{operation_id}.bin"


STAGING_ORPHAN_SECONDS = 3600  # untouched this long: no request is still writing it


def sweep_staging():
    """Remove staging files nothing will use: the half-written body of a request that died (refused
    ones are removed by the request itself), and the staged bytes of an upload that finished, was
    deleted, or failed in a way Retry cannot mend. Returns how many files went."""
    folder = Path(current_app.config["STAGING_DIR"])
    if not folder.is_dir():
        return 0
    cutoff = time.time() - STAGING_ORPHAN_SECONDS
    removed = 0
    for path in folder.glob("incoming-*.part"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    staged = {}
    for path in folder.glob("operation-*.bin"):
        number = path.stem.removeprefix("operation-")
        if number.isascii() and number.isdigit() and path.stat().st_mtime < cutoff:
            staged[int(number)] = path
    if staged:
        operations = {op.id: op for op in db.session.scalars(sa.select(Operation).where(Operation.id.in_(list(staged))))}
        for operation_id, path in staged.items():
            operation = operations.get(operation_id)
            if (operation is None or operation.media_id is None or operation.status == "succeeded"
                    or (operation.status == "failed" and not can_retry(operation))):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def accept_staged_file(user, staged, link_chapter_id=None, replacing=None):
    """Check the staged bytes and record them; returns the Operation, or raises RejectedFile (or
    ReplaceRefused, or OverQuota when they do not fit the owner's quota).

    The staging file is consumed either way: kept for the job, or removed when refused. With
    `link_chapter_id` (a chapter of the user's, checked by the caller) the file is linked at the
    end of that chapter once it is ready. With `replacing` (a file the user may change) the bytes
    become that file's next version once they are processed; until then the file is unchanged.
    """
    try:
        if staged.size == 0:
            raise RejectedFile(f"{staged.filename or 'This file'} is empty (0 bytes); nothing was uploaded.")
        kind, mime = classify(staged.head, staged.filename or "upload")
        name = sanitize_filename(staged.filename, fallback="untitled" + default_extension(mime))
        if replacing is not None:
            check_replacement(replacing, kind, staged.sha256, name)
    except (RejectedFile, ReplaceRefused):
        staged.discard()
        raise
    owner_id = replacing.owner_id if replacing is not None else user.id
    key = content_key(owner_id, staged.sha256)
    try:  # bytes the owner stores already (the same content) cost nothing more
        ensure_room(owner_id, 0 if referenced_keys([key]) else staged.size)
    except OverQuota:
        staged.discard()
        raise
    if replacing is None:
        existing = existing_copy(user.id, staged.sha256)
        media = MediaFile(owner_id=user.id, name=name, original_name=name, kind=kind, mime_type=mime,
                          size_bytes=staged.size, sha256=staged.sha256, storage_key=key, status="processing",
                          duplicate_of_id=existing.id if existing else None)
        media.refresh_search_text()
        title, details = name, {}
    else:
        media = replacing
        version = pending_version(media, name, kind, mime, staged.size, staged.sha256, key, user)
        title, details = f"{media.name}: replacing with {name}", {"version_id": version.id}
    operation = Operation(owner_id=user.id, kind="upload", title=title, stage="stored", total=staged.size,
                          media=media)
    db.session.add_all([media, operation])
    db.session.flush()
    if replacing is None:
        record_event(media, "uploaded", f"Uploaded “{name}”", user, {"size_bytes": staged.size, "mime_type": mime})
    try:
        staged.move_to(staging_path(operation.id))
        operation.details = {**details, "staging": str(staged.path)}
        if link_chapter_id:
            operation.details["link_chapter_id"] = link_chapter_id
        db.session.commit()
    except Exception:
        db.session.rollback()
        staged.discard()
        raise
    enqueue_upload_processing(operation)
    return operation


def latest_upload_operation(media):
    return db.session.scalar(db.select(Operation).where(Operation.media_id == media.id, Operation.kind == "upload")
                             .order_by(Operation.id.desc()).limit(1))


def can_retry(operation):
    """Whether Retry can mend this upload: a failure its bytes are not to blame for, or processing
    whose job was lost (stuck)."""
    if not operation:
        return False
    if operation.status in ACTIVE:
        return is_stuck(operation)
    return operation.status == "failed" and (operation.details or {}).get("retryable", True)


def is_stuck(operation):
    """Running without a heartbeat (its worker died, whatever RQ still says), or waiting for a job RQ no
    longer has (Redis restarted empty), for longer than BULK_STALE_SECONDS."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["BULK_STALE_SECONDS"])
    if operation.kind != "upload" or operation.status not in ACTIVE or operation.created_at >= cutoff:
        return False
    if operation.status == "running":
        return (operation.heartbeat_at or operation.started_at or operation.created_at) < cutoff
    return not (operation.job_id and job_is_live(operation.job_id))


def recover_stalled_uploads():
    """Queue again the processing of stuck uploads, from their staged or stored bytes (processing is
    safe to run twice); after MAX_RECOVERIES the upload is Failed, with Retry. Safe in several
    workers at once: taking an upload over is a compare-and-set on its job id. Returns how many."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["BULK_STALE_SECONDS"])
    candidates = db.session.scalars(sa.select(Operation).where(
        Operation.kind == "upload", Operation.status.in_(ACTIVE), Operation.created_at < cutoff)).all()
    recovered = 0
    for operation in candidates:
        if not is_stuck(operation):
            continue
        recoveries = (operation.details or {}).get("recoveries", 0) + 1
        if recoveries > MAX_RECOVERIES:
            mark_upload_failed(operation.id, STOPPED)
            continue
        new_job_id = f"upload-{uuid.uuid4().hex}"
        taken = db.session.execute(
            sa.update(Operation).where(Operation.id == operation.id, Operation.status.in_(ACTIVE),
                                       Operation.job_id.is_(None) if operation.job_id is None
                                       else Operation.job_id == operation.job_id)
            .values(job_id=new_job_id, status="queued", stage="retrying", error=WORKER_STOPPED,
                    details={**(operation.details or {}), "recoveries": recoveries})).rowcount
        db.session.commit()
        if not taken:
            continue
        operation = db.session.get(Operation, operation.id, populate_existing=True)
        publish_operation(operation)  # the panel says so at once, instead of a frozen percentage
        if enqueue_upload_processing(operation, job_id=new_job_id, fail_when_unavailable=False) is None:
            return recovered  # Redis is down: the next round tries again
        log.warning("upload operation %s: its job was lost; queued again as %s", operation.id, new_job_id)
        recovered += 1
    return recovered


def retry_upload(operation):
    """Queue a failed upload's processing again; the staged (or already stored) bytes are reused."""
    media = operation.media if operation else None
    stuck = operation is not None and operation.status in ACTIVE and is_stuck(operation)
    if (operation is None or operation.kind != "upload" or (operation.status != "failed" and not stuck)
            or media is None or media.in_trash):
        raise EditRefused("Only a failed or stuck upload of a file in the library can be retried.")
    if not can_retry(operation):
        raise EditRefused("Processing this file again would fail the same way: upload it again (a file that opens "
                          "on your computer) instead.")
    operation.status, operation.stage, operation.error, operation.finished_at = "queued", "stored", None, None
    operation.details = {key: value for key, value in (operation.details or {}).items() if key != "retryable"}
    version = replacement_of(operation)
    if version is not None:  # a replacement: the file keeps its content meanwhile
        version.status, version.failure_reason = "processing", None
    else:
        media.status, media.failure_reason = "processing", None
    db.session.commit()
    publish_operation(operation)
    enqueue_upload_processing(operation)
