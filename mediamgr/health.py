"""GET /healthz: is the database, Redis and storage up? 200 when all are, 503 naming what is down.

Storage is asked at most once every STORAGE_PROBE_SECONDS per process, and by one request at a time:
with storage hanging, health checks (a load balancer sends many) must not pile up on the web threads.
"""
import threading
import time

from flask import Blueprint, current_app, jsonify

from .extensions import db, redis_connection
from .storage import get_storage

bp = Blueprint("health", __name__)
STORAGE_PROBE_SECONDS = 5


def _database():
    db.session.execute(db.text("SELECT 1"))


def _redis():
    redis_connection.client.ping()


class StorageProbe:
    """The last answer of the storage check, reused while fresh; while one request asks again, the
    others get the last answer (or "checking", the first time) instead of waiting."""

    def __init__(self):
        self.lock = threading.Lock()
        self.state = None
        self.checked_at = 0.0

    def state_now(self):
        if self.state is not None and time.monotonic() - self.checked_at < STORAGE_PROBE_SECONDS:
            return self.state
        if not self.lock.acquire(blocking=False):
            return self.state or "checking"
        try:
            try:
                get_storage().check()
                self.state = "ok"
            except Exception as error:  # any failure means down; the class name says which kind
                self.state = f"down: {type(error).__name__}"
            self.checked_at = time.monotonic()
            return self.state
        finally:
            self.lock.release()


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
    report["storage"] = _storage_probe().state_now()
    down = [name for name, state in report.items() if state.startswith("down")]
    body = {"status": "ok" if not down else "down", "down": down, "checks": report}
    return jsonify(body), 503 if down else 200
