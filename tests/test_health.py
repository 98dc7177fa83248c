"""GET /healthz: 200 when the database, Redis and storage are up; 503 naming what is down."""
from helpers import base_config
from mediamgr import create_app


def test_all_up(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}


def test_redis_down_is_named(tmp_path, sqlite_template, redis_url):
    import shutil
    shutil.copyfile(sqlite_template, tmp_path / "db.sqlite3")
    app = create_app({**base_config(tmp_path, redis_url, f"sqlite:///{tmp_path / 'db.sqlite3'}"),
                      "REDIS_URL": "redis://127.0.0.1:1/0"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["down"] == ["redis"]


def test_storage_down_is_named(tmp_path, sqlite_template, redis_url):
    import shutil
    shutil.copyfile(sqlite_template, tmp_path / "db.sqlite3")
    app = create_app({**base_config(tmp_path, redis_url, f"sqlite:///{tmp_path / 'db.sqlite3'}"),
                      "STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": "http://127.0.0.1:1", "S3_BUCKET": "b",
                      "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s", "S3_REGION": "us-east-1"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["down"] == ["storage"]


class SlowStorage:
    """Storage that answers, but only after `seconds` (a busy S3)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def check(self):
        import time
        time.sleep(self.seconds)


def test_a_slow_check_answers_with_a_recent_state_but_never_an_old_one():
    import time
    from mediamgr.health import StorageProbe
    probe = StorageProbe()
    probe.state, probe.checked_at = "down: StorageError", time.monotonic() - 10
    assert probe.state_now(SlowStorage(2)) == "down: StorageError"  # 10 s old: still says something
    time.sleep(2.2)
    assert probe.state_now(SlowStorage(2)) == "ok"  # the check finished meanwhile: fresh
    probe.state, probe.checked_at = "down: StorageError", time.monotonic() - 60
    assert probe.state_now(SlowStorage(2)) == "checking"  # a minute old: not given as the present
