"""Housekeeping every worker does at start and then every MAINTENANCE_INTERVAL seconds: rescue
bulk operations whose worker died and uploads whose job was lost, remove stored objects whose rows are gone, and remove
resumable uploads left unfinished past their expiry."""
import logging

from ..bulk.service import recover_stalled_operations
from ..extensions import db
from ..library.trash import flush_pending_deletions
from ..upload.service import recover_stalled_uploads
from ..upload.tus import expire_uploads

log = logging.getLogger(__name__)


def run_maintenance():
    for task in (recover_stalled_operations, recover_stalled_uploads, flush_pending_deletions, expire_uploads):
        try:
            task()
        except Exception:  # one failing task must not stop the others, nor the worker
            db.session.rollback()
            log.exception("maintenance task %s failed", task.__name__)
        finally:
            db.session.remove()
