"""Storage that hangs (accepts connections, never answers) must not hold web threads: the health
check asks it once for many requests and within a few seconds, a permanent delete answers at once
(a worker removes the bytes), and a worker's own calls time out instead of waiting for ever."""
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from mediamgr import create_app
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile

from factories import make_files
from helpers import Browser, LiveApp, base_config


class HangingServer:
    """A TCP port that accepts every connection and never says a word."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _address = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self):
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def hanging(app, tmp_path, redis_url):
    server = HangingServer()
    hung = create_app({**base_config(tmp_path / "hung", redis_url, app.config["SQLALCHEMY_DATABASE_URI"]),
                       "STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": f"http://127.0.0.1:{server.port}",
                       "S3_BUCKET": "media", "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s",
                       "S3_REGION": "us-east-1"})
    with hung.app_context():
        yield hung, server
        db.session.remove()
        db.engine.dispose()
    server.close()


def test_health_checks_ask_hanging_storage_once_and_answer_in_seconds(hanging):
    hung, server = hanging
    live = LiveApp(hung)
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda _n: requests.get(f"{live.url}/healthz", timeout=30), range(20)))
        took = time.monotonic() - started
        deadline = time.monotonic() + 15  # the probe's own timeouts (3 s to read, 2 attempts), then it knows
        while (again := requests.get(f"{live.url}/healthz", timeout=30)).status_code != 503:
            assert again.json()["checks"]["storage"] == "checking" and time.monotonic() < deadline, again.json()
            time.sleep(0.5)
    finally:
        live.stop()
    assert took < 3, f"20 health checks took {took:.1f} s"  # each waits a second at most
    assert {answer.json()["checks"]["storage"] for answer in answers} == {"checking"}
    assert again.json()["down"] == ["storage"] and again.json()["checks"]["storage"] == "down: StorageError"
    assert len(server.held) <= 2, f"{len(server.held)} connections to the storage"  # one probe, two attempts


def test_a_permanent_delete_answers_at_once_while_storage_hangs(hanging):
    hung, _server = hanging
    ada = Browser(hung).sign_in("ada@example.com")
    (media_id,) = make_files("ada@example.com", 1, trashed=True)
    started = time.monotonic()
    response = ada.post(f"/media/{media_id}/delete")
    took = time.monotonic() - started
    assert response.status_code == 200 and took < 2, f"the delete took {took:.1f} s"
    db.session.rollback()
    assert db.session.get(MediaFile, media_id) is None


def test_a_workers_storage_calls_time_out(hanging):
    hung, _server = hanging
    storage = hung.extensions["storage"]
    config = storage.client.meta.config
    assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == (10, 60, 5)
    web = storage.request_client.meta.config
    assert (web.connect_timeout, web.read_timeout, web.retries["total_max_attempts"]) == (2, 3, 2)
