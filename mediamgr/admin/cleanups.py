"""Starting a cleanup's run (library.cleanup): queued for a worker from /admin, or worked through in
this process by `flask cleanup` with a progress bar. Both go through the bulk job (jobs.bulk)."""
import uuid

from ..bulk.actions import ACTIONS
from ..bulk.selection import Selection
from ..bulk.service import record_operation, start_operation
from ..extensions import db
from ..jobs.bulk import BulkRun
from ..jobs.queues import BackgroundUnavailable
from ..timeutil import utcnow


def _params(run):
    return {"run_id": run.id, "description": run.rules.describe()}


def _started(run, operation):
    run.operation_id, run.status, run.started_at = operation.id, "running", utcnow()
    db.session.commit()
    return operation


def start(run, actor):
    """Queue the run's operation; None when the job queue is unavailable (nothing changes then)."""
    try:
        operation = start_operation(actor, ACTIONS["cleanup"], _params(run), Selection(cleanup_id=run.id), run.files)
    except BackgroundUnavailable:
        db.session.rollback()
        return None
    return _started(run, operation)


def run_here(run, actor, on_batch=None):
    """Work through the run in this process (the command line); returns its operation, finished."""
    operation = _started(run, record_operation(actor, ACTIONS["cleanup"], _params(run), Selection(cleanup_id=run.id),
                                               run.files, job_id=f"cli-{uuid.uuid4().hex}"))
    BulkRun(operation.id, operation.job_id, on_batch=on_batch).run()
    db.session.expire_all()
    return operation
