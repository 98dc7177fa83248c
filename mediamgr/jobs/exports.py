"""The background export of a large library (over EXPORT_IN_BACKGROUND_ABOVE files): the document is
written to a temporary file a batch at a time, stored under exports/<owner>/, and offered in the
Activity panel as a download that expires after EXPORT_LINK_HOURS; the maintenance round removes
expired exports."""
import logging
import os
import tempfile
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..auth.models import User
from ..extensions import db
from ..library import portability
from ..library.trash import schedule_deletion
from ..progress.models import Operation
from ..progress.publisher import ProgressReporter
from ..storage import get_storage
from ..timeutil import utcnow
from . import with_app_context

log = logging.getLogger(__name__)
EXPORT_LINK_HOURS = 24
FORMATS = {"json": ("application/json", portability.export_json), "csv": ("text/csv", portability.export_csv)}


@with_app_context
def run_export(operation_id):
    operation = db.session.get(Operation, operation_id)
    if operation is None or operation.is_finished:
        return
    owner = db.session.get(User, operation.owner_id)
    kind = operation.details["format"]
    content_type, writer = FORMATS[kind]
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
        db.session.rollback()
        operation = db.session.get(Operation, operation_id)
        operation.status, operation.stage, operation.finished_at = "failed", "failed", utcnow()
        operation.error = "The export could not be written. Try again in a moment."
        db.session.commit()
        ProgressReporter(operation).report()
        log.exception("export %s failed: %s", operation_id, error)
        return
    finally:
        if os.path.exists(path):
            os.unlink(path)
    operation = db.session.get(Operation, operation_id)
    expires = utcnow() + timedelta(hours=EXPORT_LINK_HOURS)
    operation.details = {**operation.details, "key": key, "expires_at": expires.isoformat(timespec="seconds"),
                         "download": f"/media/export/{operation.id}/download"}
    operation.status, operation.stage, operation.finished_at = "succeeded", "ready", utcnow()
    operation.processed = operation.total
    db.session.commit()
    ProgressReporter(operation).report()


def remove_expired_exports(now=None):
    """Expired exports' stored files go (through pending_deletions, like any stored object)."""
    now = now or utcnow()
    gone = 0
    for operation in db.session.scalars(sa.select(Operation).where(Operation.kind == "export",
                                                                   Operation.status == "succeeded")):
        details = operation.details or {}
        if details.get("key") and details.get("expires_at") and details["expires_at"] < now.isoformat(timespec="seconds"):
            schedule_deletion([details["key"]])
            operation.details = {key: value for key, value in details.items() if key not in ("key", "download")}
            gone += 1
    db.session.commit()
    return gone
