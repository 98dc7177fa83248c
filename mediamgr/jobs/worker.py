"""The RQ worker: builds the app once, imports the heavy media libraries before forking, and
gives each forked work horse fresh database connections."""
import argparse
import logging
import resource
import signal
import time

import redis

from flask import current_app
from rq import Worker

from .. import create_app
from ..extensions import db, redis_connection
from . import ingest  # noqa: F401  (PyAV, Pillow and pdfium load once, before the fork)
from .budgets import limit_memory
from .maintenance import run_maintenance
from .names import ALL_QUEUES, get_queue

log = logging.getLogger("mediamgr.worker")


class AppWorker(Worker):
    """A forking worker whose horses never reuse the parent's database connections and may use at
    most JOB_MEMORY_LIMIT_BYTES, and which runs mediamgr's maintenance (jobs/maintenance.py) with
    RQ's own, at start and periodically."""

    def main_work_horse(self, job, queue):
        db.engine.dispose(close=False)
        limit_memory(current_app.config["JOB_MEMORY_LIMIT_BYTES"])
        super().main_work_horse(job, queue)

    def teardown(self):
        """On the way out, the peak memory of this worker's work horses (the kernel's count)."""
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
        log.info("work horses' peak memory: %s MiB", peak)
        super().teardown()

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
        names = [name.strip() for name in args.queues.split(",") if name.strip()]
        work_until_stopped(lambda: make_worker(app, [get_queue(name) for name in names]), args.burst)


RECONNECT_PAUSES = (1, 2, 5, 10, 30)  # the longest waits between restarts; Redis is looked at meanwhile
REDIS_LOOK_SECONDS = 0.5
HEALTHY_RUN_SECONDS = 60  # a worker that ran this long before it stopped starts the pauses afresh


def work_until_stopped(new_worker, burst=False):
    """Run a worker until it is asked to stop (or, in burst mode, runs out of jobs). RQ's worker quits
    when Redis goes away while it runs a job ("found an unhandled exception, quitting"): then start a
    new one as soon as Redis answers again (looking every REDIS_LOOK_SECONDS), or, when it stopped
    for another reason, after a pause that grows with each quick failure. The job it was running is
    rescued by the maintenance round (jobs/maintenance.py)."""
    failures = 0
    while True:
        worker = None
        started = time.monotonic()
        redis_down = False
        try:
            worker = new_worker()
            worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
            if worker._shutdown_requested_date or (burst and _redis_answers(worker.connection)):
                return  # asked to stop (SIGTERM, Ctrl-C), or a burst that is done
            reason = "the worker stopped unexpectedly"
        except (redis.ConnectionError, redis.TimeoutError) as error:
            if worker is not None and worker._shutdown_requested_date:
                return
            reason, redis_down = f"Redis is unavailable ({error})", True
        if time.monotonic() - started >= HEALTHY_RUN_SECONDS:
            failures = 0
        pause = RECONNECT_PAUSES[min(failures, len(RECONNECT_PAUSES) - 1)]
        failures += 1
        if redis_down:
            log.warning("%s; starting again when it answers (at the latest in %s s)", reason, pause)
        else:
            log.warning("%s; starting again in %s s", reason, pause)
        back = (lambda: _redis_answers(redis_connection.client)) if redis_down else None
        if _asked_to_stop_within(pause, until=back):
            return


def _asked_to_stop_within(seconds, until=None):
    """Wait `seconds`, or less once `until()` holds (asked every REDIS_LOOK_SECONDS); return True early
    if SIGTERM or SIGINT comes meanwhile (RQ's handlers, left by the worker that quit, would act on
    that worker)."""
    asked = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: asked.append(number))
    deadline = time.monotonic() + seconds
    looked = time.monotonic()
    while not asked and time.monotonic() < deadline:
        time.sleep(0.1)
        if until and time.monotonic() - looked >= REDIS_LOOK_SECONDS:
            looked = time.monotonic()
            if until():
                break
    return bool(asked)


def _redis_answers(connection):
    try:
        return connection.ping()
    except redis.RedisError:
        return False
