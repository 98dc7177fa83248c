"""Helpers shared by the tests: configuration, a logged-in test browser, and running queued jobs."""
import contextvars
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

import simple_websocket
from flask import has_app_context
from flask.globals import _cv_app
from rq import SimpleWorker
from werkzeug.serving import make_server

from mediamgr import create_app
from mediamgr.auth.models import User
from mediamgr.auth.sessions import start_session
from mediamgr.extensions import db, redis_connection
from mediamgr.jobs.names import ALL_QUEUES, get_queue

PASSWORD = "correct-horse-battery"
TEST_HASH_METHOD = "scrypt:1024:8:1"  # a 32nd of the default cost: logins in tests take a millisecond, not 0.1 s
TEST_USERS = (("ada@example.com", "instructor"), ("ben@example.com", "instructor"), ("root@example.com", "admin"))


def base_config(tmp_path, redis_url, database_uri):
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
        "STAGING_RESERVE_BYTES": 16 * 1024**2,  # the suite must not need the default 512 MiB free
        "PASSWORD_HASH_METHOD": TEST_HASH_METHOD,
        "PROGRESS_MIN_INTERVAL": 0.01,  # a job's must-deliver events wait out this interval between them
    }


IN_CI = os.environ.get("CI", "").lower() == "true"
PG_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def unavailable(message):
    """No service: an error on CI, a skip (that says why) elsewhere."""
    if IN_CI:
        pytest.fail(message + " (CI=true: services are required)")
    pytest.skip(message)


def add_test_users(password_hash):
    db.session.execute(sa.insert(User), [
        {"email": email, "display_name": email.split("@")[0].title(), "role": role, "password_hash": password_hash}
        for email, role in TEST_USERS])
    db.session.commit()


def migrate(config, password_hash=None):
    from flask_migrate import upgrade

    app = create_app(config)
    with app.app_context():
        upgrade()
        if password_hash:
            add_test_users(password_hash)
        db.engine.dispose()


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

    @property
    def raw(self):
        return self._client

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
        """Through the login form, as a person would."""
        page = self.client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = self.client.post("/login", data={"email": email, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        return self.read_token()

    def sign_in(self, email):
        """Signed in without the form (tests of other things need not check a password each time):
        a session row, and the cookie holding what flask-login's login_user would put there."""
        user = db.session.scalar(db.select(User).where(User.email == email))
        start_session(user)
        with self.client.raw.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return self.read_token()

    def read_token(self):
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


ROOT = Path(__file__).resolve().parents[1]
S3_SETTINGS = ("S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION")
WORKER_SETTINGS = ("REDIS_URL", "REDIS_NAMESPACE", "STORAGE_BACKEND", "STORAGE_ROOT", "STAGING_DIR", "SECRET_KEY")


def process_env(app, **settings):
    """The environment of a real process of the app's (a worker, a web server): the app's database,
    Redis and storage, with extra `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "REDIS_", "S3_"))}
    env.update({key: str(app.config[key]) for key in WORKER_SETTINGS})
    env.update({key: str(app.config[key]) for key in S3_SETTINGS if app.config.get(key)})
    env.update(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], INSTANCE_PATH=app.instance_path,
               BULK_BATCH_SIZE="50", BULK_STALE_SECONDS="2", MAINTENANCE_INTERVAL="1", PYTHONUNBUFFERED="1",
               STAGING_RESERVE_BYTES=str(app.config["STAGING_RESERVE_BYTES"]))
    env.update({key: str(value) for key, value in settings.items()})
    return env


def wait_for(condition, seconds, what, log_path=None):
    """Poll `condition` until it holds; past `seconds`, fail naming `what`, with the log's tail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    tail = Path(log_path).read_text(errors="replace")[-3000:] if log_path else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


def start_worker(app, log_path, queues=("bulk",), burst=False, **settings):
    """A real worker process (`worker.py`: it forks a work horse per job); its output goes to `log_path`."""
    command = [sys.executable, "worker.py", "--queues", ",".join(queues)] + (["--burst"] if burst else [])
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, cwd=ROOT, env=process_env(app, **settings), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_web(app, log_path, config="mediamgr/gunicorn_conf.py", port=None, **settings):
    """A real gunicorn (the production settings of `config`, one process) on the app's database;
    returns (process, its URL) once it answers."""
    port = port or free_port()
    env = process_env(app, BIND=f"127.0.0.1:{port}", WS_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1",
                      WS_CONCURRENCY="1", **settings)
    with open(log_path, "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", config, "app:app"],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("gunicorn did not start:\n" + Path(log_path).read_text()[-3000:])


def run_jobs(app):
    """Run every queued job with a real RQ worker (SimpleWorker, burst mode) against the real Redis."""
    def work():
        with app.app_context():
            queues = [get_queue(name) for name in ALL_QUEUES]
            SimpleWorker(queues, connection=redis_connection.client).work(burst=True)

    isolated(work)


class TcpProxy:
    """A port that forwards to (host, port) until stop(): then every connection through it is cut and
    new ones are refused, as when the server behind it stops; start() opens it again on the same port.
    hang() makes it a black hole instead (connections are accepted, nothing is answered, what was on
    its way is dropped) until resume(), which resets the connections it held."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.port = None
        self.connections = []
        self.hanging = False
        self.start()

    def hang(self):
        self.hanging = True

    def resume(self):
        self.hanging = False
        self._cut()

    def start(self):
        self.listener = socket.create_server(("127.0.0.1", self.port or 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _address = listener.accept()
            except OSError:  # stopped
                return
            self.connections.append(client)
            if self.hanging:
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self.connections.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                if not self.hanging:
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (close alone leaves it listening)
        except OSError:
            pass
        self.listener.close()
        self._cut()

    def _cut(self):
        connections, self.connections = self.connections, []
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()


class LiveApp:
    """The app behind a real HTTP server (werkzeug's, threaded) on a free port."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join()


FORM_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def form_token(client, url="/login"):
    """The CSRF token of the form on `url`."""
    return FORM_TOKEN.search(client.get(url).get_data(as_text=True)).group(1)


def log_in(client, email="ada@example.com", password=PASSWORD, remember=False, address="127.0.0.1"):
    """POST the login form as a person would (from `address`); returns the response."""
    data = {"email": email, "password": password, "csrf_token": form_token(client)}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": address})


class WebSocketClient(simple_websocket.Client):
    """simple_websocket's client, sending the Host header with its port as browsers do (it leaves the
    port out, so a server that compares Origin with its own host would refuse every page)."""

    def handshake(self):
        host, self.host = self.host, f"{self.host}:{self.port}"
        try:
            super().handshake()
        finally:
            self.host = host


def open_progress_socket(base_url, cookie):
    """A page's progress socket at `base_url` (http://host:port), with the page's cookie and origin."""
    return WebSocketClient.connect(base_url.replace("http://", "ws://", 1) + "/ws/progress",
                                   headers={"Cookie": cookie, "Origin": base_url})


def family_of(process):
    """A process and its children, at any depth (a worker and its work horse)."""
    import psutil

    return [process.pid] + [child.pid for child in psutil.Process(process.pid).children(recursive=True)]


def signal_all(pids, signum):
    """`signum` to each of `pids` that is still there."""
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

