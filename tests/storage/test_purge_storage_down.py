"""The trash purge with storage unreachable loses nothing: the expired rows go, their keys wait in
pending_deletions, and once storage answers again the next maintenance round removes the bytes, in
DeleteObjects requests of up to 1,000 keys."""
from datetime import timedelta
from urllib.parse import urlsplit

import boto3
import pytest
import sqlalchemy as sa

from factories import make_files
from helpers import TcpProxy, base_config
from mediamgr import create_app
from mediamgr.extensions import db
from mediamgr.jobs.maintenance import run_maintenance
from mediamgr.jobs.purge import purge_expired_trash
from mediamgr.library.models import MediaFile, PendingDeletion
from mediamgr.timeutil import utcnow


@pytest.fixture
def behind_proxy(app, tmp_path, redis_url, s3_settings):
    endpoint = urlsplit(s3_settings["S3_ENDPOINT_URL"])
    proxy = TcpProxy(endpoint.hostname, endpoint.port)
    config = {**base_config(tmp_path / "s3", redis_url, app.config["SQLALCHEMY_DATABASE_URI"]), **s3_settings,
              "S3_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}"}
    s3 = boto3.client("s3", endpoint_url=s3_settings["S3_ENDPOINT_URL"], aws_access_key_id="test",
                      aws_secret_access_key="test", region_name="us-east-1")
    with create_app(config).app_context():
        yield proxy, s3, s3_settings["S3_BUCKET"]
        db.session.remove()
        db.engine.dispose()
    proxy.stop()


def test_a_purge_while_storage_is_down_removes_the_bytes_when_it_is_back(behind_proxy):
    proxy, s3, bucket = behind_proxy
    ids = make_files("ada@example.com", 30, trashed=True, prefix="old")
    keys = list(db.session.scalars(sa.select(MediaFile.storage_key).where(MediaFile.id.in_(ids))))
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"bytes")
    db.session.execute(sa.update(MediaFile).values(deleted_at=utcnow() - timedelta(days=45)))
    db.session.commit()

    proxy.stop()
    assert purge_expired_trash() == 30
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingDeletion)) == 30
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 30  # nothing removed, nothing lost

    proxy.start()
    run_maintenance()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingDeletion)) == 0
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
