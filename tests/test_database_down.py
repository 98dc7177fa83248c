"""The database stops in the middle of someone's work: every answer is a 503 with the app's own page
(or a line of text for htmx), rendered without the database, and the app heals by itself once the
database is back. PostgreSQL stops for real behind a TCP proxy (its connections are cut and new ones
refused); SQLite is locked by another process's exclusive transaction."""
import contextlib
import sqlite3
from html import unescape
from urllib.parse import urlparse

import pytest

from mediamgr import create_app
from mediamgr.extensions import db

from helpers import Browser, TcpProxy, base_config

pytestmark = pytest.mark.both_databases


@pytest.fixture
def outage(app, tmp_path, redis_url):
    """(an app of its own on the same database, a context manager during which the database is down)."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        second = create_app({**base_config(tmp_path / "second", redis_url, uri), "DATABASE_TIMEOUT": 1})

        @contextlib.contextmanager
        def down():
            db.session.remove()  # an exclusive lock in WAL mode waits for every open connection
            for each in (app, second):
                with each.app_context():
                    db.engine.dispose()
            locker = sqlite3.connect(uri.removeprefix("sqlite:///"), isolation_level=None)
            locker.execute("PRAGMA locking_mode=EXCLUSIVE")
            locker.execute("BEGIN EXCLUSIVE")
            locker.execute("UPDATE users SET display_name = display_name")  # takes the lock
            try:
                yield
            finally:
                locker.execute("ROLLBACK")
                locker.close()
    else:
        address = urlparse(uri)
        proxy = TcpProxy(address.hostname, address.port or 5432)
        proxied = uri.replace(f"@{address.netloc.split('@')[1]}", f"@127.0.0.1:{proxy.port}")
        second = create_app({**base_config(tmp_path / "second", redis_url, proxied), "DATABASE_TIMEOUT": 2})

        @contextlib.contextmanager
        def down():
            db.session.remove()  # the test's own session lets go of its connection, as a finished request does
            proxy.stop()
            try:
                yield
            finally:
                proxy.start()
    with second.app_context():
        yield second, down
        db.session.remove()
        db.engine.dispose()


def test_with_the_database_down_pages_say_so_with_a_503_and_heal_by_themselves(outage):
    second, down = outage
    ada = Browser(second).sign_in("ada@example.com")
    assert ada.get("/media").status_code == 200
    with down():
        page = ada.get("/media")
        html = unescape(page.get_data(as_text=True))
        assert page.status_code == 503 and page.headers["Retry-After"] == "30"
        assert "can't reach its database" in html and "Nothing you saved is lost" in html
        assert 'href="/static/app.css' in html  # the app's own page, not a server's bare error
        assert "Traceback" not in html and "OperationalError" not in html and "psycopg" not in html

        fragment = ada.get("/media/grid", htmx=True)
        assert fragment.status_code == 503 and fragment.content_type.startswith("text/plain")
        assert "can't reach its database" in fragment.get_data(as_text=True)

        assert ada.post("/courses", {"title": "Physics"}).status_code == 503
        assert ada.get("/healthz").status_code == 503
    again = ada.get("/media")
    assert again.status_code == 200 and "Media library" in again.get_data(as_text=True)
