"""A staging disk that fills up: an upload that would not fit above STAGING_RESERVE_BYTES is refused
before a byte is written, a write that meets the full disk gives its bytes back (a tus upload keeps
exactly its committed offset), the answer is 507 with a message, and later uploads work again.
The staging directory is a real 8 MiB tmpfs."""
import io
import os
import shutil
import subprocess

import pytest

from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.upload.tus import part_path

from test_tus import create, offset_of, patch

MiB = 1024**2


@pytest.fixture
def small_staging(app, tmp_path):
    """STAGING_DIR on an 8 MiB filesystem of its own, with a reserve of 1 MiB."""
    mount_point = tmp_path / "small-staging"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        message = f"cannot mount a small tmpfs here ({mounted.stderr.strip()}): disk-full tests need root"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    app.config.update(STAGING_DIR=str(mount_point), STAGING_RESERVE_BYTES=1 * MiB)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def free(path):
    return shutil.disk_usage(path).free


def fill(path, leave):
    """Another upload's bytes take the disk until `leave` bytes are free."""
    filler = path / "someone-elses-upload.part"
    with open(filler, "wb") as handle:
        handle.write(b"\0" * (free(path) - leave))
    return filler


def jpeg_of(samples, size):
    return samples.jpeg_bytes(64, 48).ljust(size, b"\0")


def test_a_tus_upload_too_large_for_the_disk_is_refused_before_any_byte(ada, small_staging):
    answer = ada.client.post("/uploads/", headers={"Tus-Resumable": "1.0.0", "X-CSRFToken": ada.token,
                                                   "Upload-Length": str(80 * MiB)})
    assert answer.status_code == 507
    assert answer.get_data(as_text=True).startswith("The server is out of space for uploads right now.")
    assert not list(small_staging.iterdir())


def test_a_tus_write_that_fills_the_disk_gives_its_bytes_back(ada, worker, samples, small_staging):
    content = jpeg_of(samples, 5 * MiB)
    url = create(ada, len(content))
    assert patch(ada, url, 0, content[:MiB]).status_code == 204
    filler = fill(small_staging, leave=2 * MiB)  # the disk fills up while this upload is under way
    answer = patch(ada, url, MiB, content[MiB:])
    assert answer.status_code == 507, answer.get_data(as_text=True)
    assert "out of space for uploads right now" in answer.get_data(as_text=True)
    assert answer.headers["Upload-Offset"] == str(MiB)
    assert offset_of(ada, url) == MiB and part_path(url.rsplit("/", 1)[1]).stat().st_size == MiB
    assert free(small_staging) >= 2 * MiB - 64 * 1024  # what did not fit was given back

    filler.unlink()  # space again: the upload resumes where it stood
    assert patch(ada, url, MiB, content[MiB:]).status_code == 204
    worker()
    assert db.session.scalars(db.select(MediaFile.status)).all() == ["ready"]


def test_a_plain_upload_is_refused_with_507_and_leaves_nothing_behind(ada, samples, small_staging):
    fill(small_staging, leave=3 * MiB)
    content = jpeg_of(samples, 4 * MiB)
    known = ada.upload("poster.jpg", content)  # its length is known: refused before a byte is written
    assert known.status_code == 507 and "out of space" in known.get_data(as_text=True)
    streamed = ada.client.post("/media/upload", input_stream=io.BytesIO(content), headers=ada.headers(
        htmx=False, **{"X-Filename": "poster.jpg", "Content-Type": "application/octet-stream",
                       "X-Requested-With": "XMLHttpRequest"}),
        environ_overrides={"wsgi.input_terminated": True})  # chunked: no length
    assert streamed.status_code == 507 and "Nothing of this file was kept" in streamed.get_data(as_text=True)
    assert [entry.name for entry in small_staging.iterdir()] == ["someone-elses-upload.part"]
    assert db.session.scalars(db.select(MediaFile)).all() == []
