"""GET /healthz: is the database, Redis and storage up? 200 when all are, 503 naming what is down."""
from flask import Blueprint, jsonify

from .extensions import db, redis_connection
from .storage import get_storage

bp = Blueprint("health", __name__)


def _database():
    db.session.execute(db.text("SELECT 1"))


def _redis():
    redis_connection.client.ping()


def _storage():
    get_storage().check()


@bp.get("/healthz")
def healthz():
    """Each dependency's state, for load balancers and people."""
    checks = {"database": _database, "redis": _redis, "storage": _storage}
    report = {}
    for name, check in checks.items():
        try:
            check()
            report[name] = "ok"
        except Exception as error:  # any failure means down; the class name says which kind
            report[name] = f"down: {type(error).__name__}"
    db.session.rollback()
    down = [name for name, state in report.items() if state != "ok"]
    body = {"status": "ok" if not down else "down", "down": down, "checks": report}
    return jsonify(body), 503 if down else 200
