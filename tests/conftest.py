"""Fixtures: the app on a migrated SQLite or PostgreSQL database, a real Redis (REDIS_URL, else the
embedded one), and a real RQ worker that runs queued jobs."""
import contextvars
import os
import re
import shutil
import uuid

import psycopg
import pytest
from flask import has_app_context
from flask.globals import _cv_app
from rq import SimpleWorker

from mediamgr import create_app, embedded_redis
from mediamgr.cli import ensure_user
from mediamgr.extensions import db, redis_connection
from mediamgr.jobs.queues import ALL_QUEUES, get_queue

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "correct-horse-battery"


def _unavailable(message):
    """No service: an error on CI, a skip (that says why) elsewhere."""
    if IN_CI:
        pytest.fail(message + " (CI=true: services are required)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    data_dir = tmp_path_factory.mktemp("redis")
    url = embedded_redis.ensure_running(data_dir, persist=False)
    yield url
    embedded_redis.stop(data_dir)


def _base_config(tmp_path, redis_url, database_uri):
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "REDIS_URL": redis_url,
        "REDIS_NAMESPACE": f"mmtest-{uuid.uuid4().hex[:12]}",
        "STORAGE_BACKEND": "local",
        "STORAGE_ROOT": str(tmp_path / "storage"),
        "STAGING_DIR": str(tmp_path / "staging"),
    }


def _migrate(config):
    from flask_migrate import upgrade

    app = create_app(config)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, redis_url):
    """A SQLite file migrated once; each test gets a copy."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    _migrate(_base_config(folder, redis_url, f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url(redis_url, tmp_path_factory):
    """A fresh schema in the `test` database, migrated once; each test empties its tables."""
    try:
        admin = psycopg.connect(PG_DSN, connect_timeout=2, autocommit=True)
    except psycopg.OperationalError as error:
        _unavailable(f"PostgreSQL is not reachable at {PG_DSN}: PostgreSQL tests skipped ({error})")
    schema = f"mm_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    url = re.sub(r"^postgresql://", "postgresql+psycopg://", PG_DSN) + f"?options=-csearch_path%3D{schema}"
    _migrate(_base_config(tmp_path_factory.mktemp("pg"), redis_url, url))
    yield url
    admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    admin.close()


def _empty_postgres_tables():
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    db.session.execute(db.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path, redis_url):
    if request.param == "sqlite":
        path = tmp_path / "db.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        uri = f"sqlite:///{path}"
    else:
        uri = request.getfixturevalue("postgres_url")
    app = create_app(_base_config(tmp_path, redis_url, uri))
    with app.app_context():
        if request.param == "postgresql":
            _empty_postgres_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def sqlite_app(tmp_path, redis_url, sqlite_template):
    """For tests that need only one database."""
    path = tmp_path / "db.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = create_app(_base_config(tmp_path, redis_url, f"sqlite:///{path}"))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def users(app):
    """Two instructors and an admin."""
    for email, role in (("ada@example.com", "instructor"), ("ben@example.com", "instructor"),
                        ("root@example.com", "admin")):
        ensure_user(email, PASSWORD, email.split("@")[0].title(), role)
    return ("ada@example.com", "ben@example.com", "root@example.com")


def isolated(function, *args, **kwargs):
    """Run `function` as a separate request or worker process would: in its own app context (own
    `g`, own database session), not in the test's. The test's session then re-reads what changed."""
    def run():
        _cv_app.set(None)
        return function(*args, **kwargs)

    result = contextvars.copy_context().run(run)
    if has_app_context():
        db.session.expire_all()
    return result


class IsolatedClient:
    """A Flask test client whose every request runs in a context of its own."""

    def __init__(self, app):
        self._client = app.test_client()

    def __getattr__(self, name):
        method = getattr(self._client, name)
        return lambda *args, **kwargs: isolated(method, *args, **kwargs)


class Browser:
    """A test client that behaves like a logged-in page: it keeps the CSRF token the page gives it."""

    CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')

    def __init__(self, app):
        self.client = IsolatedClient(app)
        self.token = None

    def login(self, email, password=PASSWORD):
        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = self.client.post("/login", data={"email": email, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.token = self.CSRF.search(self.client.get("/media").get_data(as_text=True)).group(1)
        return self

    def headers(self, htmx=True, **extra):
        headers = {"X-CSRFToken": self.token}
        if htmx:
            headers["HX-Request"] = "true"
        headers.update(extra)
        return headers

    def get(self, url, htmx=False, **kwargs):
        return self.client.get(url, headers={"HX-Request": "true"} if htmx else {}, **kwargs)

    def post(self, url, data=None, htmx=True, **kwargs):
        return self.client.post(url, data=data or {}, headers=self.headers(htmx), **kwargs)

    def upload(self, name, content):
        return self.client.post("/media/upload", data=content, headers=self.headers(
            htmx=False, **{"X-Filename": name, "Content-Type": "application/octet-stream",
                           "X-Requested-With": "XMLHttpRequest"}))


@pytest.fixture
def ada(app, users):
    return Browser(app).login("ada@example.com")


@pytest.fixture
def ben(app, users):
    return Browser(app).login("ben@example.com")


@pytest.fixture
def admin(app, users):
    return Browser(app).login("root@example.com")


def run_jobs(app):
    """Run every queued job with a real RQ worker (SimpleWorker, burst mode) against the real Redis."""
    def work():
        with app.app_context():
            queues = [get_queue(name) for name in ALL_QUEUES]
            SimpleWorker(queues, connection=redis_connection.client).work(burst=True)

    isolated(work)


@pytest.fixture
def worker(app):
    return lambda: run_jobs(app)


@pytest.fixture
def samples():
    import media_samples
    return media_samples
