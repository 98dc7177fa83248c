"""Files a worker prepares for the user to download (a large library's export, a large selection's zip):
stored under a key of their own, offered in the Activity panel as Download until they expire after
PREPARED_DOWNLOAD_HOURS, then removed by the maintenance round. The one home of that rule, whatever
was prepared."""
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..library.trash import schedule_deletion
from ..progress.models import Operation
from ..progress.publisher import ProgressReporter
from ..storage import get_storage
from ..timeutil import utcnow

log = logging.getLogger(__name__)
PREPARED_KINDS = ("export", "archive")
LINK_SECONDS = 300  # each press of Download signs a fresh address of the stored file, short-lived


class DownloadExpired(Exception):
    """The prepared file's time is over (the maintenance round removes it soon, if it has not yet)."""


def offer_download(operation_id, key, filename, content_type, url):
    """The operation succeeded: its file is stored under `key`, and `url` (the app's route) offers it
    until it expires."""
    operation = db.session.get(Operation, operation_id)
    expires = utcnow() + timedelta(hours=current_app.config["PREPARED_DOWNLOAD_HOURS"])
    operation.details = {**operation.details, "key": key, "filename": filename, "content_type": content_type,
                         "expires_at": expires.isoformat(timespec="seconds"), "download": url}
    operation.status, operation.stage, operation.finished_at = "succeeded", "ready", utcnow()
    operation.processed = operation.total
    db.session.commit()
    ProgressReporter(operation).report()


def fail_preparing(operation_id, message):
    """The file could not be prepared: the operation says why (`message` is for the user)."""
    db.session.rollback()
    operation = db.session.get(Operation, operation_id)
    operation.status, operation.stage, operation.finished_at = "failed", "failed", utcnow()
    operation.error = message
    db.session.commit()
    ProgressReporter(operation).report()


def prepared_url(operation, content_type="application/octet-stream"):
    """A fresh short-lived signed address of the operation's stored file; None when there is none
    (never prepared, or removed after it expired); DownloadExpired once its time is over."""
    details = operation.details or {}
    if operation.kind not in PREPARED_KINDS or not details.get("key"):
        return None
    if datetime.fromisoformat(details["expires_at"]) < utcnow():
        raise DownloadExpired(operation.id)
    return get_storage().signed_url(details["key"], details["filename"], details.get("content_type") or content_type,
                                    disposition="attachment", ttl=LINK_SECONDS)


def remove_expired_downloads(now=None):
    """Expired prepared files go (through pending_deletions, like any stored object); returns how many."""
    now = now or utcnow()
    gone = 0
    for operation in db.session.scalars(sa.select(Operation).where(Operation.kind.in_(PREPARED_KINDS),
                                                                   Operation.status == "succeeded")):
        details = operation.details or {}
        if details.get("key") and details.get("expires_at") and details["expires_at"] < now.isoformat(timespec="seconds"):
            schedule_deletion([details["key"]])
            operation.details = {key: value for key, value in details.items() if key not in ("key", "download")}
            gone += 1
    db.session.commit()
    if gone:
        log.info("removed %s expired prepared download(s)", gone)
    return gone
