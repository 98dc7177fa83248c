"""Housekeeping every worker does at start and then every MAINTENANCE_INTERVAL seconds: rescue
bulk operations whose worker died, and remove stored objects whose rows are gone."""
import logging

from ..extensions import db

log = logging.getLogger(__name__)


def run_maintenance():
    from ..bulk.service import recover_stalled_operations
    from ..library.service import flush_pending_deletions

    for task in (recover_stalled_operations, flush_pending_deletions):
        try:
            task()
        except Exception:  # one failing task must not stop the others, nor the worker
            db.session.rollback()
            log.exception("maintenance task %s failed", task.__name__)
        finally:
            db.session.remove()
