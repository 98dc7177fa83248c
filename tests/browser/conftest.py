"""Browser fixtures: the real app (gunicorn and one RQ worker as subprocesses, on a migrated SQLite
database in a temporary instance folder, against the test Redis) driven by Debian's Chromium."""
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from mediamgr import create_app
from mediamgr.cli import ensure_user
from mediamgr.extensions import db

from helpers import free_port, unavailable
from page_actions import ARTIFACTS, INSTRUCTOR, PASSWORD, SECOND_INSTRUCTOR, log_in

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
START_SECONDS = 30
STOP_SECONDS = 10
# Settings the server must not inherit from the shell that runs the tests.
APP_SETTINGS = ("DATABASE_URL", "REDIS_URL", "REDIS_NAMESPACE", "STORAGE_BACKEND", "STORAGE_ROOT", "STAGING_DIR",
                "S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION",
                "CDN_BASE_URL", "MAX_UPLOAD_BYTES", "SIGNED_URL_TTL", "REGISTRATION_OPEN", "SECRET_KEY",
                "INSTANCE_PATH", "PORT", "BIND", "WEB_CONCURRENCY", "WEB_THREADS", "RESUMABLE_CHUNK_BYTES",
                "RESUMABLE_THRESHOLD_BYTES", "UPLOAD_EXPIRY_HOURS", "BULK_BATCH_SIZE", "BULK_STALE_SECONDS",
                "MAINTENANCE_INTERVAL")

expect.set_options(timeout=15_000)




@dataclass
class LiveServer:
    url: str
    folder: Path
    app: object
    processes: dict

    def create_instructor(self, email=None, name="Test Instructor"):
        """A new instructor with an empty library; returns the email (the password is PASSWORD)."""
        email = email or f"instructor-{uuid.uuid4().hex[:8]}@example.com"
        with self.app.app_context():
            ensure_user(email, PASSWORD, name, "instructor")
            db.session.remove()
        return email

    def log_tail(self, lines=60):
        parts = []
        for name in self.processes:
            text = (self.folder / f"{name}.log").read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"----- {name}.log (last {lines} lines) -----\n" + "\n".join(text))
        return "\n".join(parts)


def _start(name, command, env, folder):
    log = open(folder / f"{name}.log", "wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    log.close()
    return process


def _stop(process):
    """SIGTERM to the process group (the worker's forked horses too), then SIGKILL if it lingers."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _wait_until_healthy(url, processes, folder):
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        exited = [name for name, process in processes.items() if process.poll() is not None]
        if exited:
            raise RuntimeError(f"{', '.join(exited)} exited while starting; logs in {folder}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url}/healthz did not answer 200 within {START_SECONDS} s; logs in {folder}")


@pytest.fixture(scope="package")
def live_server(tmp_path_factory, redis_url):
    """gunicorn and one RQ worker on a fresh instance folder, with two instructors; stopped when the
    browser tests are done, so the rest of the suite does not share the machine with them."""
    folder = tmp_path_factory.mktemp("browser-instance")
    port = free_port()
    settings = {
        "INSTANCE_PATH": str(folder / "instance"),
        "DATABASE_URL": f"sqlite:///{folder / 'instance' / 'mediamgr.sqlite3'}",
        "REDIS_URL": redis_url,
        "REDIS_NAMESPACE": f"mmbrowser-{uuid.uuid4().hex[:12]}",
        "STORAGE_BACKEND": "local",
        "STORAGE_ROOT": str(folder / "storage"),
        "STAGING_DIR": str(folder / "staging"),
        "STAGING_RESERVE_BYTES": "16MiB",
        "SECRET_KEY": secrets.token_urlsafe(32),
        # Resumable from 3 MB in chunks of 1 MiB: the resumable tests send several PATCHes of a small
        # file (what they show does not depend on the size, and 21 MB through the browser took seconds).
        "RESUMABLE_THRESHOLD_BYTES": str(3 * 1000 * 1000),
        "RESUMABLE_CHUNK_BYTES": str(1024 * 1024),
    }
    env = {key: value for key, value in os.environ.items() if key not in APP_SETTINGS}
    env.update(settings, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", ACCESS_LOG="1",
               PYTHONUNBUFFERED="1")

    from flask_migrate import upgrade
    app = create_app({"INSTANCE_PATH": settings["INSTANCE_PATH"], "SQLALCHEMY_DATABASE_URI": settings["DATABASE_URL"],
                      **{key: settings[key] for key in ("REDIS_URL", "REDIS_NAMESPACE", "STORAGE_BACKEND",
                                                        "STORAGE_ROOT", "STAGING_DIR", "SECRET_KEY")}})
    with app.app_context():
        upgrade()
        ensure_user(INSTRUCTOR, PASSWORD, "Ada Instructor", "instructor")
        ensure_user(SECOND_INSTRUCTOR, PASSWORD, "Ben Instructor", "instructor")
        db.session.remove()

    processes = {
        "gunicorn": _start("gunicorn", [sys.executable, "-m", "gunicorn", "-c", "mediamgr/gunicorn_conf.py", "app:app",
                                        # no shared ~/.gunicorn/gunicorn.ctl: other servers run on this machine
                                        "--no-control-socket"],
                           env, folder),
        "worker": _start("worker", [sys.executable, "worker.py"], env, folder),
    }
    server = LiveServer(f"http://127.0.0.1:{port}", folder, app, processes)
    try:
        _wait_until_healthy(server.url, processes, folder)
    except RuntimeError:
        for process in processes.values():
            _stop(process)
        print(server.log_tail())
        raise
    yield server
    for process in processes.values():
        _stop(process)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="package")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium): browser tests skipped")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_test_failed = report.failed
    return report


@pytest.fixture
def page(request, browser, live_server):
    """A fresh browser context (own cookies) on the live server; on failure, a screenshot, the page's
    console errors and the server's logs."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    refused = []  # the console's "Failed to load resource" does not say which; the message below does
    page.on("response", lambda response: response.status >= 400 and refused.append(f"{response.status} {response.url}"))
    yield page
    allowed = [pattern for marker in request.node.iter_markers("console_errors") for pattern in marker.args]
    unexpected = [problem for problem in problems if not any(re.search(pattern, problem) for pattern in allowed)]
    if getattr(request.node, "browser_test_failed", False):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / f"failed-{request.node.name}.png"
        try:
            page.screenshot(path=shot, full_page=True)
            print(f"screenshot: {shot}")
        except Exception as error:  # a crashed page cannot be photographed; the logs still help
            print(f"no screenshot: {error}")
        print("\n".join(problems) or "no console errors")
        print(live_server.log_tail())
    context.close()
    # Every browser test fails on a console error it did not announce with
    # @pytest.mark.console_errors("regex", ...) (a test that provokes a 4xx on purpose, say).
    if unexpected and not getattr(request.node, "browser_test_failed", False):
        pytest.fail("console errors:\n" + "\n".join(unexpected) + "\nresponses >= 400:\n" + "\n".join(refused))


@pytest.fixture
def instructor_page(page, live_server):
    """The library page of a new instructor whose library is empty, logged in."""
    log_in(page, live_server.create_instructor())
    return page

