"""Starting, cancelling, retrying, undoing and rescuing bulk operations."""
import logging
import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..jobs.queues import RETRY_NOT_QUEUED, BackgroundUnavailable, enqueue_bulk, job_is_live
from ..locks import lock_row
from ..progress.models import ACTIVE, Operation
from ..progress.publisher import publish_operation
from ..timeutil import utcnow
from .actions import ACTIONS, title
from .selection import Selection

log = logging.getLogger(__name__)
MAX_RECOVERIES = 5  # a worker dying this often on one operation points at the operation: stop and say so


def record_operation(user, action, params, selection, count, job_id=None):
    """The operation's row, committed, for a job to work through (jobs.bulk.BulkRun)."""
    operation = Operation(owner_id=user.id, kind="bulk", title=title(action, params, count), stage="selecting",
                          status="queued", total=count, job_id=job_id or _new_job_id(),
                          details={"action": action.name, "params": params, "selection": selection.to_dict()})
    db.session.add(operation)
    db.session.commit()
    return operation


def start_operation(user, action, params, selection, count):
    """Record the operation and queue its job. When Redis is down nothing is kept and
    BackgroundUnavailable says so."""
    operation = record_operation(user, action, params, selection, count)
    try:
        enqueue_bulk(operation)
    except BackgroundUnavailable:
        db.session.delete(operation)
        db.session.commit()
        raise
    publish_operation(operation)
    return operation


class UndoRefused(ValueError):
    """An operation that cannot be undone (any more); the message is for the user."""


def undo_operation(operation, user):
    """Undo a finished bulk action that has an undo (a trash: restore exactly the files it moved, those
    still in the trash), once. Returns the new operation."""
    lock_row(Operation, operation.id)  # two presses of Undo start one restore
    db.session.refresh(operation)
    action = ACTIONS.get(operation.details.get("action"))
    if operation.kind != "bulk" or operation.status != "succeeded" or action is None or not action.undo:
        raise UndoRefused("Only a finished move to the trash can be undone.")
    if operation.details.get("undone_by"):
        raise UndoRefused("This was undone already.")
    undo = ACTIONS[action.undo]
    selection = Selection.changed_by(operation, undo.scope)
    count = selection.count(user)
    if not count:
        raise UndoRefused("None of those files is in the trash any more.")
    operation.details = {**operation.details, "undone_by": "pending"}
    db.session.commit()  # start_operation commits its own row; this one is marked first
    try:
        undoing = start_operation(user, undo, {"links": False}, selection, count)
    except BackgroundUnavailable:
        operation.details = {key: value for key, value in operation.details.items() if key != "undone_by"}
        db.session.commit()
        raise
    operation.details = {**operation.details, "undone_by": undoing.id}
    db.session.commit()
    publish_operation(operation)
    return undoing


def cancel_operation(operation):
    """Ask the job to stop: a bulk job before its next batch, a processing job within seconds (a queued
    operation stops before it starts)."""
    if operation.kind not in ("bulk", "processing") or operation.is_finished:
        return False
    operation.cancel_requested = True
    db.session.commit()
    publish_operation(operation)
    return True


def retry_operation(operation):
    """Queue a failed operation again; it goes on from its last checkpoint."""
    if operation.kind != "bulk" or operation.status != "failed":
        return False
    previous = (operation.status, operation.error, operation.job_id, operation.finished_at)
    operation.status, operation.error, operation.finished_at = "queued", None, None
    operation.cancel_requested = False
    operation.job_id = _new_job_id()
    operation.details = {**operation.details, "recoveries": 0}
    db.session.commit()
    try:
        enqueue_bulk(operation, RETRY_NOT_QUEUED)
    except BackgroundUnavailable:
        operation.status, operation.error, operation.job_id, operation.finished_at = previous
        db.session.commit()
        raise
    publish_operation(operation)
    return True


def mark_failed(operation_id, job_id, reason):
    """Mark an unfinished operation Failed, unless another job has taken it over."""
    db.session.rollback()
    now = utcnow()
    changed = db.session.execute(
        sa.update(Operation).where(Operation.id == operation_id, Operation.job_id == job_id,
                                   Operation.status.in_(ACTIVE))
        .values(status="failed", stage="failed", error=reason, finished_at=now, current_item=None)).rowcount
    db.session.commit()
    if changed:
        operation = db.session.get(Operation, operation_id)
        publish_operation(operation)


def recover_stalled_operations():
    """Give operations whose worker died (no heartbeat for BULK_STALE_SECONDS) to a new job, which
    goes on from the last checkpoint; returns how many were queued again. Safe to run in several
    workers at once: taking an operation over is a compare-and-set on its job id."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["BULK_STALE_SECONDS"])
    stalled = db.session.scalars(
        sa.select(Operation).where(Operation.kind == "bulk", Operation.status.in_(ACTIVE),
                                   sa.func.coalesce(Operation.heartbeat_at, Operation.created_at) < cutoff)).all()
    recovered = 0
    for operation in stalled:
        if operation.status == "queued" and job_is_live(operation.job_id):
            continue  # still waiting its turn in the queue
        recoveries = operation.details.get("recoveries", 0) + 1
        if recoveries > MAX_RECOVERIES:
            mark_failed(operation.id, operation.job_id, f"The worker stopped {MAX_RECOVERIES} times while doing this. "
                                                        "Press Retry to continue where it stopped.")
            continue
        new_job_id = _new_job_id()
        taken = db.session.execute(
            sa.update(Operation).where(Operation.id == operation.id, Operation.job_id == operation.job_id,
                                       Operation.status.in_(ACTIVE))
            .values(job_id=new_job_id, heartbeat_at=utcnow(),
                    details={**operation.details, "recoveries": recoveries})).rowcount
        db.session.commit()
        if not taken:
            continue
        operation = db.session.get(Operation, operation.id, populate_existing=True)
        try:
            enqueue_bulk(operation)
        except BackgroundUnavailable:
            log.warning("operation %s: could not be queued again (Redis unavailable)", operation.id)
            return recovered
        log.warning("operation %s: its worker stopped; continuing from file %s of %s in job %s",
                    operation.id, operation.checkpoint + 1, operation.total, new_job_id)
        recovered += 1
    return recovered


def _new_job_id():
    return f"bulk-{uuid.uuid4().hex}"
