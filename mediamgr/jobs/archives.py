"""The zip of a large selection (over ARCHIVE_STREAM_MAX_FILES or _BYTES): written a file at a time to
a temporary file in staging, stored under archives/<owner>/, and offered in the Activity panel as a
prepared download (jobs.prepared: its expiry, and its removal after). Run twice, it writes the same
zip again under the same key."""
import logging
import os
import tempfile

from flask import current_app

from ..archive.service import CONTENT_TYPE, archive_entries, zip_stream
from ..auth.models import User
from ..bulk.selection import Selection
from ..extensions import db
from ..progress.models import Operation
from ..progress.publisher import ProgressReporter
from ..storage import get_storage
from ..storage.base import StorageError
from ..timeutil import utcnow
from ..upload.space import free_bytes
from . import with_app_context
from .prepared import fail_preparing, offer_download

log = logging.getLogger(__name__)


@with_app_context
def run_archive(operation_id):
    operation = db.session.get(Operation, operation_id)
    if operation is None or operation.is_finished:
        return
    owner = db.session.get(User, operation.owner_id)
    entries = archive_entries(Selection.from_dict(operation.details["selection"]), owner)
    filename, key = operation.details["filename"], f"archives/{owner.id}/{operation.job_id}.zip"
    if not entries:
        fail_preparing(operation_id, "None of the selected files is in the library any more: there is nothing to zip.")
        return
    needed = sum(entry.size for entry in entries)
    if free_bytes() - needed < current_app.config["STAGING_RESERVE_BYTES"]:
        fail_preparing(operation_id, "The server has no room to prepare a zip this large right now. "
                                     "Select fewer files, or try again later.")
        return
    operation.status, operation.stage, operation.started_at = "running", "zipping", utcnow()
    operation.total, operation.processed = len(entries), 0
    db.session.commit()
    reporter = ProgressReporter(operation)
    reporter.report()
    db.session.commit()  # no transaction stays open while the bytes are read

    def progress(done):
        reporter.report(must_deliver=False, processed=done)

    handle, path = tempfile.mkstemp(prefix="archive-", suffix=".zip", dir=current_app.config["STAGING_DIR"])
    try:
        with os.fdopen(handle, "wb") as out:
            for piece in zip_stream(entries, sized=False, on_entry=progress):
                out.write(piece)
        get_storage().put_file(key, path, CONTENT_TYPE)
    except StorageError as error:
        log.warning("archive %s: storage failed: %s", operation_id, error)
        fail_preparing(operation_id, "A file could not be read from storage, or the zip could not be stored. "
                                     "Try again in a moment.")
        return
    except Exception as error:  # the row must not stay "running" whatever went wrong
        log.exception("archive %s could not be written: %s", operation_id, error)
        fail_preparing(operation_id, "The zip could not be written. Try again in a moment.")
        return
    finally:
        if os.path.exists(path):
            os.unlink(path)
    offer_download(operation_id, key, filename, CONTENT_TYPE, f"/media/download/{operation_id}")
