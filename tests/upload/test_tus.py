"""Resumable uploads (tus 1.0.0): the protocol's status codes, resuming from the persisted offset
(also after a dropped connection and in a restarted web process), expiry, isolation, and
interoperability with tuspy, a tus client no one here wrote."""
import base64
import hashlib
import fcntl
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa
from tusclient import client as tus_client

from helpers import PASSWORD, LiveApp
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.timeutil import utcnow
from mediamgr.upload.models import ResumableUpload
from mediamgr.upload.tus import expire_uploads, part_path

TUS = {"Tus-Resumable": "1.0.0"}


def metadata(name, kind="image/jpeg"):
    encode = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    return f"filename {encode(name)},filetype {encode(kind)}"


def big_jpeg(samples):
    return samples.jpeg_bytes(640, 480) + b"\0" * 20_000  # JPEG readers stop at the end marker


def tus(browser, method, url, body=b"", **headers):
    merged = {**TUS, "X-CSRFToken": browser.token, **headers}
    return browser.client.open(url, method=method, data=body, headers=merged)


def create(browser, length, name="photo.jpg", **headers):
    response = tus(browser, "POST", "/uploads/", **{"Upload-Length": str(length), "Upload-Metadata": metadata(name),
                                                    **headers})
    assert response.status_code == 201, response.get_data(as_text=True)
    return urlsplit(response.headers["Location"]).path


def patch(browser, url, offset, body, **headers):
    return tus(browser, "PATCH", url, body, **{"Upload-Offset": str(offset),
                                               "Content-Type": "application/offset+octet-stream", **headers})


def offset_of(browser, url):
    answer = tus(browser, "HEAD", url)
    assert answer.status_code == 200, answer.status_code
    return int(answer.headers["Upload-Offset"])


def test_options_describe_the_server(ada, app):
    answer = ada.client.options("/uploads/")
    assert answer.status_code == 204
    assert answer.headers["Tus-Version"] == "1.0.0" and answer.headers["Tus-Resumable"] == "1.0.0"
    assert set(answer.headers["Tus-Extension"].split(",")) == {"creation", "creation-with-upload", "termination",
                                                                 "expiration", "checksum"}
    assert int(answer.headers["Tus-Max-Size"]) == app.config["MAX_UPLOAD_BYTES"]
    assert "sha256" in answer.headers["Tus-Checksum-Algorithm"]


def test_upload_in_two_chunks_becomes_a_library_file(ada, worker, samples):
    content = samples.jpeg_bytes(640, 480)
    url = create(ada, len(content), name="Campus <map> & “more”.jpg")
    first = patch(ada, url, 0, content[:10_000])
    assert first.status_code == 204 and first.headers["Upload-Offset"] == "10000"
    assert "Upload-Expires" in first.headers
    assert offset_of(ada, url) == 10_000
    last = patch(ada, url, 10_000, content[10_000:])
    assert last.status_code == 204 and int(last.headers["Upload-Offset"]) == len(content)
    assert last.headers["X-Operation-Id"].isdigit()
    worker()
    media = db.session.scalars(sa.select(MediaFile)).one()
    assert media.status == "ready" and media.sha256 == hashlib.sha256(content).hexdigest()
    assert media.name == "Campus <map> & “more”.jpg" and media.kind == "image"
    assert not part_path(url.rsplit("/", 1)[1]).exists()


def test_creation_with_upload_takes_the_first_bytes_in_the_post(ada, samples):
    content = samples.png_bytes()
    answer = tus(ada, "POST", "/uploads/", content[:100], **{"Upload-Length": str(len(content)),
                                                              "Upload-Metadata": metadata("dot.png"),
                                                              "Content-Type": "application/offset+octet-stream"})
    assert answer.status_code == 201 and answer.headers["Upload-Offset"] == "100"


@pytest.mark.parametrize("headers, status, message", [
    ({"Upload-Length": str(10 * 2**40)}, 413, "larger than"),
    ({"Upload-Length": "0"}, 400, "empty"),
    ({"Upload-Length": "lots"}, 400, "Upload-Length"),
    ({"Upload-Length": "10", "Upload-Defer-Length": "1"}, 400, "deferred"),
    ({"Upload-Length": "10", "Upload-Metadata": "filename ***"}, 400, "base64"),
])
def test_creation_refusals(ada, headers, status, message):
    answer = tus(ada, "POST", "/uploads/", **headers)
    assert answer.status_code == status and message in answer.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResumableUpload)) == 0


def test_patch_refusals_leave_the_upload_as_it_was(ada, samples):
    content = big_jpeg(samples)
    url = create(ada, len(content))
    assert patch(ada, url, 0, content[:5000]).status_code == 204
    wrong_offset = patch(ada, url, 4000, content[4000:6000])
    assert wrong_offset.status_code == 409 and wrong_offset.headers["Upload-Offset"] == "5000"
    wrong_type = tus(ada, "PATCH", url, content[5000:6000], **{"Upload-Offset": "5000", "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    digest = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    mismatch = patch(ada, url, 5000, content[5000:6000], **{"Upload-Checksum": f"sha256 {digest}"})
    assert mismatch.status_code == 460 and "discarded" in mismatch.get_data(as_text=True)
    unknown = patch(ada, url, 5000, content[5000:6000], **{"Upload-Checksum": "crc99 AAAA"})
    assert unknown.status_code == 400
    too_much = patch(ada, url, 5000, content[5000:] + b"extra")
    assert too_much.status_code == 413
    no_version = ada.client.open(url, method="HEAD", headers={"X-CSRFToken": ada.token})
    assert no_version.status_code == 412 and no_version.headers["Tus-Version"] == "1.0.0"
    assert offset_of(ada, url) == 5000
    assert part_path(url.rsplit("/", 1)[1]).stat().st_size == 5000
    digest = base64.b64encode(hashlib.sha256(content[5000:]).digest()).decode()
    assert patch(ada, url, 5000, content[5000:], **{"Upload-Checksum": f"sha256 {digest}"}).status_code == 204


def test_a_file_of_the_wrong_type_is_refused_at_its_first_bytes(ada):
    body = b"#!/bin/sh\necho hello\n" * 1000
    url = create(ada, len(body), name="script.jpg")
    answer = patch(ada, url, 0, body)
    assert answer.status_code == 415 and "not a type the library takes" in answer.get_data(as_text=True)
    assert tus(ada, "HEAD", url).status_code == 404
    assert not part_path(url.rsplit("/", 1)[1]).exists()


def test_termination_removes_the_bytes(ada, samples):
    content = big_jpeg(samples)
    url = create(ada, len(content))
    patch(ada, url, 0, content[:3000])
    assert tus(ada, "DELETE", url).status_code == 204
    assert tus(ada, "HEAD", url).status_code == 404
    assert not part_path(url.rsplit("/", 1)[1]).exists()


def test_uploads_belong_to_their_owner(ada, ben, samples):
    content = big_jpeg(samples)
    url = create(ada, len(content))
    assert tus(ben, "HEAD", url).status_code == 404
    assert patch(ben, url, 0, content).status_code == 404
    assert tus(ben, "DELETE", url).status_code == 404
    assert offset_of(ada, url) == 0
    anonymous = ada.client.__class__(ada.client._client.application)
    assert anonymous.open(url, method="HEAD", headers=TUS).status_code == 401


def test_without_csrf_token_nothing_is_created(ada):
    answer = ada.client.post("/uploads/", headers={**TUS, "Upload-Length": "10"})
    assert answer.status_code == 400 and "security token" in answer.get_data(as_text=True)


def test_unfinished_uploads_expire_and_are_swept(ada, samples):
    content = big_jpeg(samples)
    url = create(ada, len(content))
    patch(ada, url, 0, content[:2000])
    upload_id = url.rsplit("/", 1)[1]
    db.session.execute(sa.update(ResumableUpload).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert tus(ada, "HEAD", url).status_code == 410
    assert patch(ada, url, 2000, content[2000:]).status_code == 410
    assert expire_uploads() == 1
    assert not part_path(upload_id).exists()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResumableUpload)) == 0


# ---- over real HTTP: tuspy, a dropped connection, a restarted web process -------------------------

@pytest.fixture
def live(app, users):
    server = LiveApp(app)
    yield server
    server.stop()


def logged_in_headers(base_url, email="ada@example.com"):
    """A session cookie and CSRF token for `email`, from the real login form."""
    import re

    session = requests.Session()
    form = session.get(base_url + "/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    session.post(base_url + "/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    page = session.get(base_url + "/media").text
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    cookie = "; ".join(f"{name}={value}" for name, value in session.cookies.items())
    return {"Cookie": cookie, "X-CSRFToken": csrf}


def test_tuspy_uploads_resume_from_the_offset_after_an_interruption(live, worker, samples, tmp_path):
    content = samples.jpeg_bytes(1600, 1200) + b"\0" * 300_000  # JPEG readers stop at the end marker
    path = tmp_path / "lecture slide.jpg"
    path.write_bytes(content)
    client = tus_client.TusClient(live.url + "/uploads/", headers=logged_in_headers(live.url))
    first = client.uploader(str(path), chunk_size=64 * 1024, metadata={"filename": path.name},
                            upload_checksum=True)
    first.upload(stop_at=len(content) // 2)  # the client stops half-way (a closed laptop)
    url = first.url
    resumed = client.uploader(str(path), url=url, chunk_size=64 * 1024, upload_checksum=True)
    assert resumed.offset == first.offset and 0 < resumed.offset < len(content)
    resumed.upload()
    worker()
    media = db.session.scalars(sa.select(MediaFile)).one()
    assert media.name == "lecture slide.jpg" and media.size_bytes == len(content)
    assert media.sha256 == hashlib.sha256(content).hexdigest() and media.status == "ready"


def test_a_connection_cut_mid_chunk_keeps_the_bytes_that_arrived(live, samples, tmp_path):
    content = samples.jpeg_bytes(1200, 900) + b"\0" * 400_000
    headers = logged_in_headers(live.url)
    created = requests.post(live.url + "/uploads/", headers={**TUS, **headers, "Upload-Length": str(len(content)),
                                                             "Upload-Metadata": metadata("cut.jpg")})
    url = created.headers["Location"]
    sent = 200_000
    with socket.create_connection(("127.0.0.1", int(urlsplit(live.url).port))) as raw:
        head = (f"PATCH {urlsplit(url).path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTus-Resumable: 1.0.0\r\n"
                f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
                f"Content-Length: {len(content)}\r\nCookie: {headers['Cookie']}\r\nX-CSRFToken: {headers['X-CSRFToken']}\r\n\r\n")
        raw.sendall(head.encode() + content[:sent])
        raw.shutdown(socket.SHUT_WR)  # the network goes away half-way through the chunk
        raw.recv(4096)
    offset = int(requests.head(url, headers={**TUS, **headers}).headers["Upload-Offset"])
    assert offset == sent
    path = tmp_path / "cut.jpg"
    path.write_bytes(content)
    client = tus_client.TusClient(live.url + "/uploads/", headers=headers)
    uploader = client.uploader(str(path), url=url)
    assert uploader.offset == sent
    uploader.upload()
    assert int(requests.head(url, headers={**TUS, **headers}).headers["Upload-Offset"]) == len(content)


def test_a_cancelled_plain_upload_leaves_no_staging_file_and_no_file(live, app, samples):
    """Cancel on a plain upload aborts its request: the server discards what arrived."""
    content = samples.jpeg_bytes(1200, 900) + b"\0" * 400_000
    headers = logged_in_headers(live.url)
    staging = Path(app.config["STAGING_DIR"])
    before = {path for path in staging.rglob("*") if path.is_file()}
    with socket.create_connection(("127.0.0.1", int(urlsplit(live.url).port))) as raw:
        head = (f"POST /media/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                f"X-Filename: cancelled.jpg\r\nX-Requested-With: XMLHttpRequest\r\n"
                f"Content-Length: {len(content)}\r\nCookie: {headers['Cookie']}\r\nX-CSRFToken: {headers['X-CSRFToken']}\r\n\r\n")
        raw.sendall(head.encode() + content[:200_000])
        raw.close()  # the browser's xhr.abort()
    deadline = time.monotonic() + 10
    while {path for path in staging.rglob("*") if path.is_file()} - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not {path for path in staging.rglob("*") if path.is_file()} - before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile)) == 0


def test_a_restarted_web_process_resumes_at_the_persisted_offset(app, users, samples):
    from mediamgr import create_app

    content = samples.jpeg_bytes(800, 600) + b"\0" * 100_000
    before = LiveApp(app)
    headers = {**TUS, **logged_in_headers(before.url)}
    created = requests.post(before.url + "/uploads/", headers={**headers, "Upload-Length": str(len(content)),
                                                                "Upload-Metadata": metadata("restart.jpg")})
    path = urlsplit(created.headers["Location"]).path
    requests.patch(before.url + path, data=content[:50_000],
                   headers={**headers, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
    before.stop()
    restarted = create_app(dict(app.config))  # a new process's app: nothing shared but the database and disk
    after = LiveApp(restarted)
    try:
        assert requests.head(after.url + path, headers=headers).headers["Upload-Offset"] == "50000"
        answer = requests.patch(after.url + path, data=content[50_000:],
                                headers={**headers, "Upload-Offset": "50000",
                                         "Content-Type": "application/offset+octet-stream"})
        assert answer.status_code == 204 and answer.headers["Upload-Offset"] == str(len(content))
    finally:
        after.stop()


def read_bytes():
    """Bytes this process has read with read() calls so far (what the kernel counts: /proc/self/io)."""
    with open("/proc/self/io") as io:
        return int(next(line for line in io if line.startswith("rchar:")).split()[1])


def test_the_last_patch_does_not_read_the_file_again(ada, samples):
    """The hash is kept up as the PATCHes arrive: finishing reads nothing back (it read the whole part
    file, 784 ms per GiB)."""
    content = big_jpeg(samples) + bytes(24 * 1024 * 1024)
    url = create(ada, len(content))
    half = len(content) // 2
    assert patch(ada, url, 0, content[:half]).status_code == 204
    before = read_bytes()
    answer = patch(ada, url, half, content[half:])
    assert answer.status_code == 204
    assert read_bytes() - before < 1024 * 1024, "the part file was read again"
    media = db.session.scalars(sa.select(MediaFile)).one()
    assert media.sha256 == hashlib.sha256(content).hexdigest()


def test_after_a_restart_only_the_bytes_before_the_offset_are_hashed_again(ada, samples):
    from mediamgr.upload import tus as tus_module
    content = big_jpeg(samples) + bytes(24 * 1024 * 1024)
    url = create(ada, len(content))
    quarter = len(content) // 4
    assert patch(ada, url, 0, content[:quarter]).status_code == 204
    tus_module.HASH_STATES.clear()  # what a new web process starts with
    before = read_bytes()
    assert patch(ada, url, quarter, content[quarter:]).status_code == 204
    reread = read_bytes() - before
    assert quarter <= reread < quarter + 1024 * 1024
    assert db.session.scalars(sa.select(MediaFile)).one().sha256 == hashlib.sha256(content).hexdigest()


def test_the_panel_row_of_a_paused_upload_shows_the_offset_once_its_last_patch_is_done(app, ada, samples):
    """A reload while a chunk is being sent draws the row before the cut-off PATCH has kept its bytes;
    the row asks again, and that answer waits for the PATCH (it holds the file's lock) to commit."""
    content = big_jpeg(samples)
    url = create(ada, len(content), name="lecture poster.jpg")
    assert patch(ada, url, 0, content[:5000]).status_code == 204
    upload_id = url.rsplit("/", 1)[1]
    row = ada.client.get(f"{url}/row").get_data(as_text=True)
    assert f"Paused at {100 * 5000 // len(content)}%" in row and "lecture poster.jpg" in row
    assert "hx-trigger" not in row  # this answer is the server's current word: it does not ask again

    writing = threading.Event()

    def slow_patch():  # a PATCH still receiving bytes: it holds the lock, then commits 5,000 more
        with app.app_context(), open(part_path(upload_id), "r+b") as part:
            fcntl.flock(part, fcntl.LOCK_EX)
            writing.set()
            time.sleep(0.5)
            db.session.execute(sa.update(ResumableUpload).where(ResumableUpload.id == upload_id).values(offset=10_000))
            db.session.commit()

    writer = threading.Thread(target=slow_patch)
    writer.start()
    writing.wait(5)
    row = ada.client.get(f"{url}/row").get_data(as_text=True)
    writer.join()
    assert f"Paused at {100 * 10_000 // len(content)}%" in row
    assert ada.client.get("/uploads/0123456789abcdef0123456789abcdef/row").status_code == 404


def test_another_users_paused_row_is_not_found(ada, ben, samples):
    url = create(ada, len(big_jpeg(samples)))
    assert ben.client.get(f"{url}/row").status_code == 404
