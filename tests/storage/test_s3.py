"""The S3/B2 backend against moto's S3 server over HTTP: multipart upload, presigned GET with Range,
batched deletes, and the whole upload pipeline on S3."""
import os
import shutil
import time

import pytest
import requests

from helpers import Browser, base_config, run_jobs
from mediamgr import create_app
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.storage.base import StorageError
from mediamgr.storage.s3 import TRANSFER, S3Storage


@pytest.fixture
def storage(s3_settings):
    return S3Storage(s3_settings["S3_ENDPOINT_URL"], s3_settings["S3_BUCKET"], "test", "test", "us-east-1")


def test_large_files_go_up_in_parts_with_progress(storage, tmp_path):
    path = tmp_path / "big.bin"
    size = TRANSFER.multipart_threshold + 3 * 1024 * 1024
    with open(path, "wb") as handle:
        handle.write(os.urandom(1024 * 1024) * (size // (1024 * 1024)))
    seen = []
    storage.put_file("users/1/media/big", path, "video/mp4", seen.append)
    head = storage.client.head_object(Bucket=storage.bucket, Key="users/1/media/big")
    assert head["ContentLength"] == size and head["ContentType"] == "video/mp4"
    assert "-" in head["ETag"]  # a multipart upload's ETag names its part count
    assert seen[-1] == size and seen == sorted(seen)


def test_presigned_get_serves_ranges_and_names_the_download(storage, tmp_path):
    path = tmp_path / "clip.bin"
    path.write_bytes(bytes(range(256)) * 8)
    storage.put_file("k", path, "video/webm")
    url = storage.signed_url("k", "Lecture “1”.webm", "video/webm", "attachment", ttl=60)
    part = requests.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == bytes(range(10, 20))
    assert part.headers["Content-Type"] == "video/webm"
    assert "attachment" in part.headers["Content-Disposition"] and "UTF-8''" in part.headers["Content-Disposition"]


def test_presigned_urls_are_reused_while_fresh(storage):
    assert storage.signed_url("k", "a", "image/webp", ttl=600) == storage.signed_url("k", "a", "image/webp", ttl=600)


def test_cdn_base_url_replaces_the_storage_origin(s3_settings):
    storage = S3Storage(s3_settings["S3_ENDPOINT_URL"], s3_settings["S3_BUCKET"], "test", "test", "us-east-1",
                        cdn_base_url="https://cdn.example.com")
    url = storage.signed_url("users/1/media/abc", "a.mp4", "video/mp4")
    assert url.startswith("https://cdn.example.com/users/1/media/abc?") and "Signature=" in url


def test_deleting_many_objects_takes_one_request_per_thousand(storage, tmp_path):
    path = tmp_path / "tiny"
    path.write_bytes(b"x")
    keys = [f"bulk/{n}" for n in range(1500)]
    for key in keys[:5]:
        storage.put_file(key, path, "application/octet-stream")
    assert storage.delete_many(keys) == 2
    assert not storage.exists("bulk/0")


def test_the_upload_pipeline_stores_in_the_bucket(s3_settings, tmp_path, redis_url, sqlite_template, samples):
    from mediamgr.cli import ensure_user
    from mediamgr.storage import get_storage

    shutil.copyfile(sqlite_template, tmp_path / "db.sqlite3")
    app = create_app({**base_config(tmp_path, redis_url, f"sqlite:///{tmp_path / 'db.sqlite3'}"), **s3_settings})
    with app.app_context():
        ensure_user("ada@example.com", "correct-horse-battery", "Ada", "instructor")
        ada = Browser(app).login("ada@example.com")
        assert ada.upload("clip.webm", samples.video_bytes(seconds=1)).status_code == 201
        run_jobs(app)
        media = db.session.scalars(db.select(MediaFile)).one()
        assert media.status == "ready" and get_storage().exists(media.storage_key)
        html = ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True)
        assert s3_settings["S3_ENDPOINT_URL"] in html  # the preview is a presigned URL on the storage origin
        assert s3_settings["S3_ENDPOINT_URL"] in ada.get("/media").headers["Content-Security-Policy"]
        key, media_id = media.storage_key, media.id
        ada.post(f"/media/{media_id}/trash")
        ada.post(f"/media/{media_id}/delete")
        run_jobs(app)
        assert not get_storage().exists(key)
        db.session.remove()


def test_multipart_uploads_left_by_a_killed_transfer_are_cancelled(storage):
    """What a worker killed mid-transfer leaves: an upload with parts, never completed nor aborted."""
    from datetime import timedelta

    left = storage.client.create_multipart_upload(Bucket=storage.bucket, Key="users/1/media/half")
    storage.client.upload_part(Bucket=storage.bucket, Key="users/1/media/half", UploadId=left["UploadId"],
                               PartNumber=1, Body=b"\0" * (5 * 1024 * 1024))
    # (moto dates every upload 2010-11-10, so that a young upload is spared cannot be shown here)
    assert storage.abort_abandoned_uploads(timedelta(0)) == 1
    assert storage.client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", []) == []


def test_the_maintenance_round_sweeps_multipart_uploads_once_an_hour(app, s3_settings, monkeypatch):
    from datetime import timedelta

    from mediamgr.jobs import maintenance

    storage = S3Storage(s3_settings["S3_ENDPOINT_URL"], s3_settings["S3_BUCKET"], "test", "test", "us-east-1")
    app.extensions["storage"] = storage
    storage.client.create_multipart_upload(Bucket=storage.bucket, Key="users/2/media/a")
    assert maintenance.abort_abandoned_multipart_uploads(older_than=timedelta(0)) == 1
    storage.client.create_multipart_upload(Bucket=storage.bucket, Key="users/2/media/b")
    assert maintenance.abort_abandoned_multipart_uploads(older_than=timedelta(0)) == 0  # swept this hour already
    assert len(storage.client.list_multipart_uploads(Bucket=storage.bucket)["Uploads"]) == 1


def test_a_duplicates_bytes_are_not_sent_to_the_bucket_again(s3_settings, tmp_path, redis_url, sqlite_template, samples):
    """Content addressing makes the key the same; the worker sees the object is there (another row
    stores its bytes under it) and skips the transfer: the object is never written again."""
    import boto3
    shutil.copyfile(sqlite_template, tmp_path / "db.sqlite3")
    app = create_app({**base_config(tmp_path, redis_url, f"sqlite:///{tmp_path / 'db.sqlite3'}"), **s3_settings})
    s3 = boto3.client("s3", endpoint_url=s3_settings["S3_ENDPOINT_URL"], aws_access_key_id="test",
                      aws_secret_access_key="test", region_name="us-east-1")
    content = samples.video_bytes(seconds=1)
    with app.app_context():
        ada = Browser(app).sign_in("ada@example.com")
        ada.upload("clip.webm", content)
        run_jobs(app)
        first = db.session.scalars(db.select(MediaFile)).one()
        written = s3.head_object(Bucket=s3_settings["S3_BUCKET"], Key=first.storage_key)["LastModified"]
        time.sleep(1.1)  # LastModified has whole seconds
        ada.upload("clip again.webm", content)
        run_jobs(app)
        second = db.session.scalars(db.select(MediaFile).order_by(MediaFile.id.desc()).limit(1)).one()
        assert (second.status, second.duplicate_of_id) == ("ready", first.id)
        assert s3.head_object(Bucket=s3_settings["S3_BUCKET"], Key=first.storage_key)["LastModified"] == written
        db.session.remove()


def test_copy_stays_within_the_bucket(storage, tmp_path):
    """An import into another account copies stored content with CopyObject: nothing is downloaded."""
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024))
    storage.put_file("users/1/media/abc", source, "application/octet-stream")
    downloads = []
    storage.client.meta.events.register("before-call.s3.GetObject", lambda **kwargs: downloads.append(1))
    storage.copy("users/1/media/abc", "users/2/media/abc")
    assert storage.exists("users/2/media/abc") and not downloads
    target = tmp_path / "copy.bin"
    storage.download_to("users/2/media/abc", target)
    assert target.read_bytes() == source.read_bytes()
    with pytest.raises(StorageError) as missing:
        storage.copy("users/1/media/nothing", "users/2/media/nothing")
    assert not missing.value.transient
