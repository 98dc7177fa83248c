"""A job's "still working": a thread stamps its operation's heartbeat_at every few seconds, also while
one step (a storage request, a slow batch) takes long, so the maintenance round can tell a job
that is slow from one whose worker died (jobs/maintenance.py)."""
import logging
import threading

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..progress.models import Operation
from ..timeutil import utcnow

log = logging.getLogger(__name__)


def heartbeat_interval():
    """A quarter of BULK_STALE_SECONDS: three beats may be late before a job counts as gone."""
    return max(0.5, current_app.config["BULK_STALE_SECONDS"] / 4)


class Heartbeat:
    """`with Heartbeat(operation_id, job_id):` beats until the block ends. With a `job_id`, only while
    the operation is still that job's (a job taken over stops beating for it)."""

    def __init__(self, operation_id, job_id=None):
        self.operation_id, self.job_id = operation_id, job_id
        self.every = heartbeat_interval()
        self.engine = db.engine
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def _beat(self):
        condition = [Operation.id == self.operation_id]
        if self.job_id:
            condition.append(Operation.job_id == self.job_id)
        while not self.stop.wait(self.every):
            try:
                with self.engine.begin() as connection:
                    connection.execute(sa.update(Operation).where(*condition).values(heartbeat_at=utcnow()))
            except sa.exc.SQLAlchemyError:
                log.debug("heartbeat of operation %s skipped", self.operation_id, exc_info=True)
