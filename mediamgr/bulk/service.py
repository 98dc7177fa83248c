"""Starting, cancelling, retrying and rescuing bulk operations."""
import logging
import uuid
from datetime import timedelta

import redis
import sqlalchemy as sa
from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Callback, Job

from ..extensions import db, redis_connection
from ..jobs.queues import BULK, get_queue
from ..progress.models import ACTIVE, Operation
from ..progress.publisher import operation_event, publish
from ..timeutil import utcnow
from .actions import title

log = logging.getLogger(__name__)
BACKGROUND_UNAVAILABLE = "The background service is unavailable right now, so nothing was changed. Try again in a moment."
MAX_RECOVERIES = 5  # a worker dying this often on one operation points at the operation: stop and say so
LIVE_JOB_STATES = ("queued", "started", "scheduled", "deferred")


class BackgroundUnavailable(RuntimeError):
    """Redis cannot take the job; the message is for the user."""


def start_operation(user, action, params, selection, count):
    """Record the operation and queue its job. When Redis is down nothing is kept and
    BackgroundUnavailable says so."""
    operation = Operation(owner_id=user.id, kind="bulk", title=title(action, params, count), stage="selecting",
                          status="queued", total=count, job_id=_new_job_id(),
                          details={"action": action.name, "params": params, "selection": selection.to_dict()})
    db.session.add(operation)
    db.session.commit()
    try:
        _enqueue(operation)
    except redis.RedisError as error:
        db.session.delete(operation)
        db.session.commit()
        raise BackgroundUnavailable(BACKGROUND_UNAVAILABLE) from error
    publish(operation.owner_id, operation_event(operation))
    return operation


def cancel_operation(operation):
    """Ask the job to stop before its next batch (a queued operation stops before it starts)."""
    if operation.kind != "bulk" or operation.is_finished:
        return False
    operation.cancel_requested = True
    db.session.commit()
    publish(operation.owner_id, operation_event(operation))
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
        _enqueue(operation)
    except redis.RedisError as error:
        operation.status, operation.error, operation.job_id, operation.finished_at = previous
        db.session.commit()
        raise BackgroundUnavailable("The background service is unavailable right now. Try again in a moment.") \
            from error
    publish(operation.owner_id, operation_event(operation))
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
        publish(operation.owner_id, operation_event(operation))


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
        if operation.status == "queued" and _job_is_live(operation.job_id):
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
            _enqueue(operation)
        except redis.RedisError:
            log.warning("operation %s: could not be queued again (Redis unavailable)", operation.id)
            return recovered
        log.warning("operation %s: its worker stopped; continuing from file %s of %s in job %s",
                    operation.id, operation.checkpoint + 1, operation.total, new_job_id)
        recovered += 1
    return recovered


def _new_job_id():
    return f"bulk-{uuid.uuid4().hex}"


def _enqueue(operation):
    get_queue(BULK).enqueue(
        "mediamgr.jobs.bulk.run_bulk", operation.id, job_id=operation.job_id, job_timeout=24 * 3600,
        result_ttl=3600, failure_ttl=7 * 86400, on_failure=Callback("mediamgr.jobs.bulk.bulk_job_failed"),
        description=f"bulk operation {operation.id}: {operation.title}")


def _job_is_live(job_id):
    try:
        return Job.fetch(job_id, connection=redis_connection.client).get_status() in LIVE_JOB_STATES
    except NoSuchJobError:
        return False
    except redis.RedisError:
        return True  # cannot tell: leave it
