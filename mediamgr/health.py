"""GET /healthz: is the database, Redis and storage up? 200 when all are, 503 naming what is down.

Storage is asked at most once every STORAGE_PROBE_SECONDS per process, by a thread of its own, and
a health check waits for it at most PROBE_WAIT_SECONDS: with storage hanging, health checks (a load
balancer sends many) answer in about a second and never pile up on the web threads.
"""
import threading
import time

from flask import Blueprint, current_app, jsonify

from .extensions import db, redis_connection
from .storage import get_storage

bp = Blueprint("health", __name__)
STORAGE_PROBE_SECONDS = 5
PROBE_WAIT_SECONDS = 1.0
STALE_AFTER_SECONDS = 30  # a last answer older than this is not given while a new check runs


def _database():
    db.session.execute(db.text("SELECT 1"))


def _redis():
    redis_connection.client.ping()


class StorageProbe:
    """The storage check runs in a thread of its own, at most once every STORAGE_PROBE_SECONDS per
    process. A health check waits for a running check at most PROBE_WAIT_SECONDS, then answers with
    the last state (or "checking": the first time, and when the last is older than
    STALE_AFTER_SECONDS). With storage hanging, health checks answer within about a second (a load
    balancer's timeout is often a few) and never pile up on the web threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.state = None
        self.checked_at = 0.0
        self.running = None  # the Event of the check under way

    def state_now(self, storage):
        with self.lock:
            if self.state is not None and time.monotonic() - self.checked_at < STORAGE_PROBE_SECONDS:
                return self.state
            if self.running is None:
                self.running = threading.Event()
                threading.Thread(target=self._check, args=(storage, self.running), daemon=True,
                                 name="storage-probe").start()
            running = self.running
        if running.wait(PROBE_WAIT_SECONDS):
            return self.state
        # Still asking: the last answer, unless it is too old to speak for now.
        recent = self.state is not None and time.monotonic() - self.checked_at < STALE_AFTER_SECONDS
        return self.state if recent else "checking"

    def _check(self, storage, done):
        try:
            storage.check()
            state = "ok"
        except Exception as error:  # any failure means down; the class name says which kind
            state = f"down: {type(error).__name__}"
        with self.lock:
            self.state, self.checked_at, self.running = state, time.monotonic(), None
        done.set()


def _storage_probe():
    probe = current_app.extensions.get("storage-probe")
    if probe is None:
        probe = current_app.extensions.setdefault("storage-probe", StorageProbe())
    return probe


@bp.get("/healthz")
def healthz():
    """Each dependency's state, for load balancers and people."""
    report = {}
    for name, check in (("database", _database), ("redis", _redis)):
        try:
            check()
            report[name] = "ok"
        except Exception as error:  # any failure means down; the class name says which kind
            report[name] = f"down: {type(error).__name__}"
    db.session.rollback()
    report["storage"] = _storage_probe().state_now(get_storage())
    down = [name for name, state in report.items() if state.startswith("down")]
    body = {"status": "ok" if not down else "down", "down": down, "checks": report}
    return jsonify(body), 503 if down else 200
