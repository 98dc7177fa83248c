"""The RQ worker: builds the app once, imports the heavy media libraries before forking, and
gives each forked work horse fresh database connections."""
import argparse
import logging

from flask import current_app
from rq import Worker

from .. import create_app
from ..extensions import db, redis_connection
from . import ingest  # noqa: F401  (PyAV, Pillow and pdfium load once, before the fork)
from .budgets import limit_memory
from .maintenance import run_maintenance
from .queues import ALL_QUEUES, get_queue


class AppWorker(Worker):
    """A forking worker whose horses never reuse the parent's database connections and may use at
    most JOB_MEMORY_LIMIT_BYTES, and which runs mediamgr's maintenance (jobs/maintenance.py) with
    RQ's own, at start and periodically."""

    def main_work_horse(self, job, queue):
        db.engine.dispose(close=False)
        limit_memory(current_app.config["JOB_MEMORY_LIMIT_BYTES"])
        super().main_work_horse(job, queue)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        run_maintenance()
        db.engine.dispose()  # the next horse forks without the parent's connections


def make_worker(app, queues):
    """A worker that wakes at least every MAINTENANCE_INTERVAL seconds, even when idle (RQ waits
    for jobs for worker_ttl - 15 seconds at a time)."""
    interval = app.config["MAINTENANCE_INTERVAL"]
    return AppWorker(queues, connection=redis_connection.client, maintenance_interval=interval,
                     worker_ttl=interval + 15)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run a mediamgr background worker.")
    parser.add_argument("--queues", default=",".join(ALL_QUEUES), help="comma-separated queue names, in priority order")
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")

    app = create_app()
    with app.app_context():
        queues = [get_queue(name.strip()) for name in args.queues.split(",") if name.strip()]
        worker = make_worker(app, queues)
        worker.work(burst=args.burst, with_scheduler=True, logging_level="INFO")
