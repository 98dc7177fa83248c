"""Fixtures: the app on a migrated SQLite or PostgreSQL database, a real Redis (REDIS_URL, else the
embedded one), and a real RQ worker that runs queued jobs."""
import os
import re
import shutil
import uuid

import psycopg
import pytest
from werkzeug.security import generate_password_hash

from mediamgr import create_app, embedded_redis
from mediamgr.extensions import db

from helpers import (PASSWORD, PG_DSN, TEST_HASH_METHOD, TEST_USERS, Browser, add_test_users, base_config, migrate, run_jobs,
                     unavailable)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    data_dir = tmp_path_factory.mktemp("redis")
    url = embedded_redis.ensure_running(data_dir, persist=False)
    yield url
    embedded_redis.stop(data_dir)


def pytest_generate_tests(metafunc):
    """Tests on the `app` fixture run on SQLite; those marked both_databases (what SQL dialects can
    make differ: search, paging, set-based edits, locks) on PostgreSQL too."""
    if "app" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        metafunc.parametrize("app", ["sqlite", "postgresql"] if both else ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def password_hash():
    """The test users' password hash, made once: one scrypt hash takes a tenth of a second."""
    return generate_password_hash(PASSWORD, method=TEST_HASH_METHOD)






@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, redis_url, password_hash):
    """A SQLite file migrated once, with the test users in it; each test gets a copy."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    migrate(base_config(folder, redis_url, f"sqlite:///{path}"), password_hash)
    return path


@pytest.fixture(scope="session")
def postgres_url(redis_url, tmp_path_factory):
    """A fresh schema in the `test` database, migrated once; each test empties its tables."""
    try:
        admin = psycopg.connect(PG_DSN, connect_timeout=2, autocommit=True)
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL is not reachable at {PG_DSN}: PostgreSQL tests skipped ({error})")
    schema = f"mm_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    url = re.sub(r"^postgresql://", "postgresql+psycopg://", PG_DSN) + f"?options=-csearch_path%3D{schema}"
    migrate(base_config(tmp_path_factory.mktemp("pg"), redis_url, url))
    yield url
    admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
    admin.close()


def _empty_postgres_tables(password_hash):
    """Every table emptied, then the test users added: what a copy of the SQLite template holds."""
    tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
    db.session.execute(db.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()
    add_test_users(password_hash)


@pytest.fixture
def app(request, tmp_path, redis_url, password_hash):
    """The app on SQLite (a copy of the template) or, for tests marked both_databases, PostgreSQL."""
    if getattr(request, "param", "sqlite") == "sqlite":
        path = tmp_path / "db.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        uri = f"sqlite:///{path}"
    else:
        uri = request.getfixturevalue("postgres_url")
    app = create_app(base_config(tmp_path, redis_url, uri))
    with app.app_context():
        if getattr(request, "param", "sqlite") == "postgresql":
            _empty_postgres_tables(password_hash)
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def sqlite_app(tmp_path, redis_url, sqlite_template):
    """For tests that need only one database."""
    path = tmp_path / "db.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = create_app(base_config(tmp_path, redis_url, f"sqlite:///{path}"))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def users(app):
    """Two instructors and an admin (in every test database from the start)."""
    return tuple(email for email, _role in TEST_USERS)


@pytest.fixture
def ada(app, users):
    return Browser(app).sign_in("ada@example.com")


@pytest.fixture
def ben(app, users):
    return Browser(app).sign_in("ben@example.com")


@pytest.fixture
def admin(app, users):
    return Browser(app).sign_in("root@example.com")


@pytest.fixture
def worker(app):
    return lambda: run_jobs(app)


@pytest.fixture
def samples():
    import media_samples
    return media_samples


class OwnRedis:
    """A redis-server of the test's own, to stop and start (empty) without touching the others', and
    an app on the test's database that uses it."""

    def __init__(self, data_dir, app_config):
        self.data_dir = data_dir
        self.url = embedded_redis.ensure_running(data_dir, persist=False)
        self.app = create_app({**app_config, "REDIS_URL": self.url})

    def stop(self):
        embedded_redis.stop(self.data_dir)

    def start(self):
        embedded_redis.ensure_running(self.data_dir, persist=False)

    def restart_empty(self):
        self.stop()
        self.start()


@pytest.fixture
def own_redis(app, tmp_path, redis_url):
    own = OwnRedis(tmp_path / "own-redis", base_config(tmp_path / "own", redis_url, app.config["SQLALCHEMY_DATABASE_URI"]))
    with own.app.app_context():
        yield own
        db.session.remove()
        db.engine.dispose()
    own.stop()
