"""The bulk job: works through an operation's files in checkpointed batches.

Each batch is one transaction: the action's set-based statements, the files' history, the
per-file failures and the operation's new checkpoint commit together or not at all. The batch
only commits when the operation still belongs to this job and its checkpoint is where the job
found it, so a batch is never counted twice, even when a stalled job wakes up after another job
took the operation over (see bulk.service.recover_stalled_operations).
"""
import logging

import sqlalchemy as sa
from flask import current_app
from rq import get_current_job
from rq.exceptions import AbandonedJobError

from ..auth.models import User
from ..bulk.actions import ACTIONS
from ..bulk.selection import Selection
from ..bulk.service import mark_failed
from ..extensions import db
from ..library.batch import FileBatch
from ..library.trash import DELETE_BATCH, flush_pending_deletions
from ..progress.models import Operation, OperationItem
from ..progress.publisher import ProgressReporter
from ..timeutil import utcnow
from .heartbeat import Heartbeat
from . import with_app_context

log = logging.getLogger(__name__)


class Superseded(Exception):
    """Another job has taken this operation over (or it was finished meanwhile)."""


@with_app_context
def run_bulk(operation_id):
    job = get_current_job()
    BulkRun(operation_id, job.id if job else None).run()


@with_app_context
def bulk_job_failed(job, connection, exc_type, exc_value, traceback):
    """RQ's on_failure: an error stops the operation as Failed, with Retry to go on from the checkpoint.
    A job that had already been replaced (its worker died and another job took over) changes nothing;
    one abandoned by a dead worker (RQ's registry cleanup may see it before our rescue does) is left
    for the rescue, which goes on from its checkpoint."""
    if exc_type is AbandonedJobError:
        log.warning("bulk operation %s: its worker stopped; the rescue will continue it", job.args[0])
        return
    log.error("bulk operation %s stopped by %s: %s", job.args[0], exc_type.__name__, exc_value)
    mark_failed(job.args[0], job.id, "Stopped by an unexpected error. Press Retry to continue where it stopped.")


class BulkRun:
    def __init__(self, operation_id, job_id, on_batch=None):
        self.operation_id = operation_id
        self.job_id = job_id
        self.on_batch = on_batch  # (operation) after each batch: a terminal's progress bar
        self.batch_size = current_app.config["BULK_BATCH_SIZE"]
        self.pending_keys = 0

    def run(self):
        operation = db.session.get(Operation, self.operation_id)
        if operation is None or operation.is_finished or operation.job_id != self.job_id:
            return
        try:
            self._claim()
            with Heartbeat(self.operation_id, self.job_id):
                if self.operation.stage == "selecting":
                    self._select()
                while self._next_batch():
                    pass
        except Superseded:
            db.session.rollback()
            log.info("operation %s: taken over by another job; job %s stops", self.operation_id, self.job_id)

    # ---- steps ----------------------------------------------------------------------------------
    def _claim(self):
        now = utcnow()
        self._guarded_update(status="running", heartbeat_at=now,
                             started_at=sa.func.coalesce(Operation.started_at, now), error=None)
        db.session.commit()
        self.operation = db.session.get(Operation, self.operation_id, populate_existing=True)
        self.reporter = ProgressReporter(self.operation)
        self._report(must_deliver=True)

    def _select(self):
        """Turn the selection into the operation's numbered list of files, once."""
        operation = self.operation
        selection = Selection.from_dict(operation.details["selection"])
        actor = db.session.get(User, operation.owner_id)
        self._guarded_update(expect_checkpoint=operation.checkpoint, heartbeat_at=utcnow())
        db.session.execute(sa.delete(OperationItem).where(OperationItem.operation_id == operation.id))
        ids = selection.media_ids(actor).order_by(None).subquery()
        numbered = sa.select(sa.literal(operation.id), sa.func.row_number().over(order_by=ids.c.id), ids.c.id)
        db.session.execute(sa.insert(OperationItem).from_select(["operation_id", "position", "media_id"], numbered))
        total = db.session.scalar(sa.select(sa.func.count()).where(OperationItem.operation_id == operation.id))
        self._guarded_update(total=total, stage="working")
        db.session.commit()
        self._refresh()
        self._report(must_deliver=True)

    def _next_batch(self):
        """Do one batch; False once the operation is finished (done or cancelled)."""
        operation = self._refresh()
        if operation.cancel_requested:
            self._finish("cancelled")
            return False
        items = db.session.execute(
            sa.select(OperationItem.position, OperationItem.media_id)
            .where(OperationItem.operation_id == operation.id, OperationItem.position > operation.checkpoint)
            .order_by(OperationItem.position).limit(self.batch_size)).all()
        if not items:
            self._finish("succeeded")
            return False
        self._guarded_update(expect_checkpoint=operation.checkpoint, heartbeat_at=utcnow())  # locks the row until commit
        action = ACTIONS[operation.details["action"]]
        if not action.deletes and db.session.get_bind().dialect.name == "postgresql":
            # A batch that a database crash loses is lost with its checkpoint, and done again, so its
            # commit need not wait for the disk. Deletes wait: stored objects go after their commit.
            db.session.execute(sa.text("SET LOCAL synchronous_commit = off"))
        batch = FileBatch([media_id for _position, media_id in items], actor_id=operation.owner_id,
                          operation_id=operation.id)
        names = {media_id: row.name for media_id, row in batch.rows.items()}
        failures = action.apply(batch, operation.details.get("params", {})).failures
        if failures:
            db.session.execute(sa.update(OperationItem), [
                {"operation_id": operation.id, "position": position, "error": failures[media_id],
                 "media_name": names.get(media_id)}
                for position, media_id in items if media_id in failures])
        last_name = next((names[media_id] for _position, media_id in reversed(items) if media_id in names), None)
        self._guarded_update(expect_checkpoint=operation.checkpoint, checkpoint=items[-1].position, processed=operation.processed + len(items),
                             failed=operation.failed + len(failures), current_item=last_name, heartbeat_at=utcnow())
        db.session.commit()
        if action.deletes:
            self.pending_keys += 2 * len(items)
            if self.pending_keys >= DELETE_BATCH:  # a full DeleteObjects request's worth
                flush_pending_deletions(full_batches_only=True)
                self.pending_keys = 0
        self._refresh()
        self._report(must_deliver=False)
        if self.on_batch:
            self.on_batch(self.operation)
        return True

    def _finish(self, status):
        self._guarded_update(status=status, stage=status, finished_at=utcnow(), current_item=None)
        action = ACTIONS[self.operation.details["action"]]
        if action.finish:
            action.finish(self.operation, status)
        db.session.commit()
        flush_pending_deletions()
        self._refresh()
        self._report(must_deliver=True)
        log.info("operation %s %s: %s of %s files, %s failed", self.operation_id, status,
                 self.operation.processed, self.operation.total, self.operation.failed)

    # ---- helpers --------------------------------------------------------------------------------
    def _guarded_update(self, expect_checkpoint=None, **values):
        """UPDATE the operation only while this job owns it (and, given `checkpoint`, only if no
        batch was committed since the job read it); otherwise stop with Superseded."""
        query = sa.update(Operation).where(Operation.id == self.operation_id, Operation.job_id == self.job_id,
                                           Operation.status.in_(("queued", "running")))
        if expect_checkpoint is not None:
            query = query.where(Operation.checkpoint == expect_checkpoint)
        if db.session.execute(query.values(**values)).rowcount != 1:
            raise Superseded()

    def _refresh(self):
        self.operation = db.session.get(Operation, self.operation_id, populate_existing=True)
        if self.operation is None:
            raise Superseded()
        return self.operation

    def _report(self, must_deliver):
        self.reporter.sync(self.operation)
        self.reporter.report(must_deliver=must_deliver)
