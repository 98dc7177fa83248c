"""Housekeeping every worker does at start and then every MAINTENANCE_INTERVAL seconds: rescue
bulk operations whose worker died and uploads whose job was lost, delete for good the files whose
recovery period in the trash has ended (one worker at a time) and the course editor's Undo snapshots past
their time, cancel (hourly) multipart
uploads that a killed transfer left in the bucket, remove stored objects whose rows are gone, and remove
resumable uploads left unfinished past their expiry and prepared downloads past theirs, and fold the storage summaries' pending changes."""
import logging
from datetime import timedelta

import redis
from flask import current_app
from rq.exceptions import StopRequested

from ..bulk.service import recover_stalled_operations
from ..courses.undo import purge_expired_undos
from ..extensions import db, redis_connection
from ..library import stats
from ..library.trash import flush_pending_deletions
from ..storage import get_storage
from ..upload.service import recover_stalled_uploads, sweep_staging
from ..upload.tus import expire_uploads

from . import with_app_context
from .prepared import remove_expired_downloads
from .purge import purge_expired_trash
from .queues import UPLOAD_JOB_TIMEOUT

log = logging.getLogger(__name__)
# A multipart upload older than the longest an upload job may run (RQ kills it then) has no transfer
# left to finish it. Listing uploads is a billed request on B2: once an hour, whatever the workers.
ABANDONED_AFTER = timedelta(seconds=UPLOAD_JOB_TIMEOUT + 3600)
SWEEP_EVERY_SECONDS = 3600


def abort_abandoned_multipart_uploads(older_than=ABANDONED_AFTER, every=SWEEP_EVERY_SECONDS):
    key = f"{current_app.config['REDIS_NAMESPACE']}:multipart-sweep"
    try:
        if every and not redis_connection.client.set(key, 1, nx=True, ex=every):
            return 0  # another worker swept within the hour
    except redis.RedisError:
        return 0
    cancelled = get_storage().abort_abandoned_uploads(older_than)
    if cancelled:
        log.warning("cancelled %s unfinished multipart upload(s) left by stopped transfers", cancelled)
    return cancelled


@with_app_context
def remove_deleted_bytes():
    """The job a permanent delete queues (jobs/queues.enqueue_deletions)."""
    flush_pending_deletions()


def run_maintenance():
    for task in (recover_stalled_operations, recover_stalled_uploads, purge_expired_trash, purge_expired_undos,
                 remove_expired_downloads, flush_pending_deletions, stats.fold, expire_uploads, sweep_staging,
                 abort_abandoned_multipart_uploads):
        try:
            task()
        except StopRequested:  # SIGTERM (RQ's handler raises it wherever the worker is): stop, now
            db.session.rollback()
            raise
        except Exception:  # one failing task must not stop the others, nor the worker
            db.session.rollback()
            log.exception("maintenance task %s failed", task.__name__)
        finally:
            db.session.remove()
