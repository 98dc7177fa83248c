"""From a staged file to a media row, an operation and a queued job."""
from pathlib import Path

from flask import current_app

from ..extensions import db
from ..jobs.queues import enqueue_upload_processing
from ..library.models import MediaFile
from ..history import record_event
from ..library.service import EditRefused
from ..progress.models import Operation
from ..progress.publisher import publish_operation
from ..storage import content_key
from .names import sanitize_filename
from .sniff import RejectedFile, classify, default_extension


def staging_path(operation_id):
    return Path(current_app.config["STAGING_DIR"]) / f"operation-{operation_id}.bin"


def accept_staged_file(user, staged, link_chapter_id=None):
    """Check the staged bytes and record them; returns the Operation, or raises RejectedFile.

    The staging file is consumed either way: kept for the job, or removed when refused. With
    `link_chapter_id` (a chapter of the user's, checked by the caller) the file is linked at the
    end of that chapter once it is ready.
    """
    try:
        if staged.size == 0:
            raise RejectedFile(f"{staged.filename or 'This file'} is empty (0 bytes); nothing was uploaded.")
        kind, mime = classify(staged.head, staged.filename or "upload")
    except RejectedFile:
        staged.discard()
        raise
    name = sanitize_filename(staged.filename, fallback="untitled" + default_extension(mime))
    media = MediaFile(owner_id=user.id, name=name, original_name=name, kind=kind, mime_type=mime,
                      size_bytes=staged.size, sha256=staged.sha256, storage_key=content_key(user.id, staged.sha256),
                      status="processing")
    media.refresh_search_text()
    operation = Operation(owner_id=user.id, kind="upload", title=name, stage="stored", total=staged.size,
                          media=media)
    db.session.add_all([media, operation])
    db.session.flush()
    record_event(media, "uploaded", f"Uploaded “{name}”", user, {"size_bytes": staged.size, "mime_type": mime})
    try:
        staged.move_to(staging_path(operation.id))
        operation.details = {"staging": str(staged.path)}
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
    """Whether Retry can mend this failed upload (not when its bytes cannot be read)."""
    return bool(operation) and (operation.details or {}).get("retryable", True)


def retry_upload(operation):
    """Queue a failed upload's processing again; the staged (or already stored) bytes are reused."""
    media = operation.media if operation else None
    if operation is None or operation.kind != "upload" or operation.status != "failed" or media is None or media.in_trash:
        raise EditRefused("Only a failed upload of a file in the library can be retried.")
    if not can_retry(operation):
        raise EditRefused("Processing this file again would fail the same way: upload it again (a file that opens "
                          "on your computer) instead.")
    operation.status, operation.stage, operation.error, operation.finished_at = "queued", "stored", None, None
    operation.details = {key: value for key, value in (operation.details or {}).items() if key != "retryable"}
    media.status, media.failure_reason = "processing", None
    db.session.commit()
    publish_operation(operation)
    enqueue_upload_processing(operation)
