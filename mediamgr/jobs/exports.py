"""The background export of a large library (over EXPORT_IN_BACKGROUND_ABOVE files): the document is
written to a temporary file a batch at a time, stored under exports/<owner>/, and offered in the
Activity panel as a prepared download (jobs.prepared: its expiry, and its removal after)."""
import logging
import os
import tempfile

from flask import current_app

from ..auth.models import User
from ..extensions import db
from ..library import portability
from ..progress.models import Operation
from ..progress.publisher import ProgressReporter
from ..storage import get_storage
from ..timeutil import utcnow
from . import with_app_context
from .prepared import fail_preparing, offer_download

log = logging.getLogger(__name__)
FORMATS = {"json": ("application/json", portability.export_json), "csv": ("text/csv", portability.export_csv)}


@with_app_context
def run_export(operation_id):
    operation = db.session.get(Operation, operation_id)
    if operation is None or operation.is_finished:
        return
    owner = db.session.get(User, operation.owner_id)
    kind = operation.details["format"]
    content_type, writer = FORMATS[kind]
    filename = operation.details["filename"]
    operation.status, operation.stage, operation.started_at = "running", "exporting", utcnow()
    db.session.commit()
    reporter = ProgressReporter(operation)
    reporter.report()

    def progress(done):
        reporter.sync(operation)
        reporter.report(must_deliver=False, processed=done)

    folder = current_app.config["STAGING_DIR"]
    os.makedirs(folder, exist_ok=True)
    handle, path = tempfile.mkstemp(prefix="export-", suffix=f".{kind}", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for piece in writer(owner, on_progress=progress):
                out.write(piece)
        key = f"exports/{owner.id}/{operation.job_id}.{kind}"
        get_storage().put_file(key, path, content_type)
    except Exception as error:
        log.exception("export %s failed: %s", operation_id, error)
        fail_preparing(operation_id, "The export could not be written. Try again in a moment.")
        return
    finally:
        if os.path.exists(path):
            os.unlink(path)
    offer_download(operation_id, key, filename, content_type,
                   f"/media/export/{operation_id}/download")
