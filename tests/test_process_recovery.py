"""Processes that die come back by themselves: a worker whose Redis goes away while it runs a job
waits and starts again (RQ's own worker quits for good), and `make run`'s runner restarts a child
that crashed instead of stopping the whole app. Real processes, a real redis-server stopped and
started again."""
import os
import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import sqlalchemy as sa
from rq.exceptions import StopRequested
from rq.job import Job

from mediamgr.extensions import db, redis_connection
from mediamgr.jobs.maintenance import run_maintenance
from mediamgr.jobs.names import UPLOADS, get_queue
from mediamgr.jobs.worker import make_worker

from helpers import ROOT, free_port, start_worker, wait_for


def job_status(job):
    try:
        return job.get_status(refresh=True)
    except Exception:  # Redis is down or restarted empty
        return None


def test_a_worker_whose_redis_went_away_during_a_job_comes_back(own_redis, tmp_path):
    app = own_redis.app
    log_path = tmp_path / "worker.log"
    slow = get_queue(UPLOADS).enqueue("time.sleep", 3)
    worker = start_worker(app, log_path, queues=("uploads",))
    try:
        wait_for(lambda: job_status(slow) == "started", 30, "the job to start", log_path)
        own_redis.stop()
        time.sleep(4)  # the job ends while Redis is away: RQ's worker finds it cannot report it
        own_redis.start()  # empty, as after a restart without persistence
        assert worker.poll() is None, "the worker exited\n" + log_path.read_text()[-3000:]
        after = get_queue(UPLOADS, connection=redis_connection.client).enqueue("os.getpid")
        wait_for(lambda: job_status(after) == "finished", 60, "the worker to take new jobs", log_path)
        assert Job.fetch(after.id, connection=redis_connection.client).return_value() != worker.pid  # a work horse
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert "starting again when it answers" in log_path.read_text()


def test_a_worker_takes_jobs_as_soon_as_redis_is_back_from_a_long_outage(own_redis, tmp_path):
    """Its pauses grow while Redis stays away (1, 2, 5 s ...), but it looks every half second whether
    Redis answers again, so a 12 s outage does not cost another 10 s of waiting."""
    app = own_redis.app
    log_path = tmp_path / "worker.log"
    worker = start_worker(app, log_path, queues=("uploads",))
    try:
        first = get_queue(UPLOADS).enqueue("time.sleep", 3)
        wait_for(lambda: job_status(first) == "started", 30, "the job to start", log_path)
        own_redis.stop()
        time.sleep(12)
        own_redis.start()
        back = time.monotonic()
        after = get_queue(UPLOADS, connection=redis_connection.client).enqueue("os.getpid")
        wait_for(lambda: job_status(after) == "finished", 30, "the worker to take new jobs", log_path)
        assert time.monotonic() - back < 3, log_path.read_text()[-2000:]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def test_the_runner_restarts_a_crashed_worker_and_keeps_serving(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "REDIS_", "S3_"))}
    env.update(INSTANCE_PATH=str(tmp_path / "instance"), PORT=str(port), WEB_CONCURRENCY="1",
               PASSWORD_HASH_METHOD="scrypt:1024:8:1", PYTHONUNBUFFERED="1")
    log_path = tmp_path / "runner.log"
    with open(log_path, "wb") as log:
        runner = subprocess.Popen([sys.executable, "-m", "mediamgr.runner"], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/login"), 90, "the app to start", log_path)

        def worker_pids():
            """The pids of the quick-queue worker (make run also starts a processing worker)."""
            pids = []
            for child in psutil.Process(runner.pid).children():
                try:
                    command = " ".join(child.cmdline())
                    if (child.status() != psutil.STATUS_ZOMBIE and "worker.py" in command
                            and "--queues processing" not in command):
                        pids.append(child.pid)
                except psutil.Error:  # gone, or killed and not yet reaped by the runner
                    pass
            return pids
        wait_for(lambda: worker_pids(), 30, "the worker to start", log_path)
        # Video processing has a worker of its own: an upload never waits behind a transcode.
        assert any("--queues processing" in " ".join(child.cmdline()) for child in psutil.Process(runner.pid).children())
        first = worker_pids()[0]
        os.killpg(first, signal.SIGKILL)
        wait_for(lambda: any(pid != first for pid in worker_pids()), 30, "a new worker", log_path)
        assert runner.poll() is None, log_path.read_text()[-3000:]
        assert _answers(f"http://127.0.0.1:{port}/login")
        assert "the worker stopped (exit status -9); starting it again in 1 s" in log_path.read_text()
    finally:
        runner.send_signal(signal.SIGINT)
        runner.wait(timeout=60)


def test_a_stop_asked_for_during_the_maintenance_round_stops_the_worker(app):
    """SIGTERM while the worker's own process runs a maintenance task (between jobs): RQ's handler
    raises StopRequested there, in whatever the task was doing. The round must let it through; caught
    as a failing task's error, it left the worker running, deaf to SIGTERM (found by the crash-safety
    test: a worker stopped 30 s later only because its Redis went away)."""
    worker = make_worker(app, [get_queue(UPLOADS)])
    worker._install_signal_handlers()  # RQ's own warm-shutdown handlers, as when it works
    sent = []

    def stop_once(*_args):
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)

    sa.event.listen(db.engine, "before_cursor_execute", stop_once)
    try:
        with app.app_context():
            try:
                run_maintenance()
            except StopRequested:
                pass
            else:
                raise AssertionError("the maintenance round swallowed the request to stop")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", stop_once)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    assert sent
