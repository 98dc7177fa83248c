"""A selection's zip with its bytes in S3/B2 (moto's server over HTTP): streamed a megabyte at a time
from GetObject, or written by a worker into the bucket and fetched through a presigned address."""
import io
import os
import zipfile

import pytest
import requests
import sqlalchemy as sa

from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.progress.models import Operation
from mediamgr.storage.s3 import S3Storage

from factories import stored_files


@pytest.fixture
def on_s3(app, s3_settings):
    app.extensions["storage"] = S3Storage(s3_settings["S3_ENDPOINT_URL"], s3_settings["S3_BUCKET"], "test", "test",
                                          "us-east-1")
    return app.extensions["storage"]


def entries(data):
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return {info.filename: archive.read(info) for info in archive.infolist()}


def test_a_small_selection_streams_from_the_bucket(on_s3, ada):
    big = os.urandom(1024 * 1024) * 9  # nine chunks of GetObject's body
    ids = stored_files("ada@example.com", {"lecture.mp4": big, "notes.pdf": b"notes", "Notes.pdf": b"more notes"})
    answer = ada.post("/media/download", {"scope": "library", "ids": [str(i) for i in ids]}, htmx=False, buffered=True)
    assert answer.status_code == 200 and int(answer.headers["Content-Length"]) == len(answer.get_data())
    assert entries(answer.get_data()) == {"lecture.mp4": big, "notes.pdf": b"notes", "Notes (2).pdf": b"more notes"}


def test_a_missing_object_answers_503_before_the_zip_starts(on_s3, ada):
    media_id = stored_files("ada@example.com", {"gone.pdf": b"gone"})[0]
    on_s3.delete_many([db.session.get(MediaFile, media_id).storage_key])
    answer = ada.post("/media/download", {"scope": "library", "ids": [str(media_id)]}, htmx=False)
    assert answer.status_code == 503


def test_a_large_selection_is_written_into_the_bucket(on_s3, ada, app, worker):
    app.config["ARCHIVE_STREAM_MAX_BYTES"] = 10
    ids = stored_files("ada@example.com", {"a.pdf": b"a" * 20, "b.pdf": b"b" * 20})
    assert ada.post("/media/download", {"scope": "library", "ids": [str(i) for i in ids]}).status_code == 200
    worker()
    operation = db.session.scalars(sa.select(Operation).where(Operation.kind == "archive")).one()
    assert operation.status == "succeeded", operation.error
    assert operation.details["key"].startswith(f"archives/{operation.owner_id}/") and on_s3.exists(operation.details["key"])
    address = ada.client.get(f"/media/download/{operation.id}").headers["Location"]
    assert address.startswith(on_s3.endpoint_url)  # presigned: the bytes come from the bucket, not through us
    served = requests.get(address, timeout=10)
    assert "attachment" in served.headers["Content-Disposition"] and served.headers["Content-Type"] == "application/zip"
    assert entries(served.content) == {"a.pdf": b"a" * 20, "b.pdf": b"b" * 20}
