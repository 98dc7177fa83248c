"""Bad uploads get a clear message and leave nothing behind."""
import io
from pathlib import Path

import pytest

from mediamgr.extensions import db
from mediamgr.library.models import MediaFile


def nothing_kept(app):
    staging = Path(app.config["STAGING_DIR"])
    return db.session.scalar(db.select(db.func.count(MediaFile.id))) == 0 and (
        not staging.exists() or not any(staging.iterdir()))


def test_disallowed_content_is_refused_with_the_reason(ada, app):
    response = ada.upload("archive.zip", b"PK\x03\x04" + b"\x00" * 100)
    assert response.status_code == 415
    assert "ZIP" in response.get_data(as_text=True) and "video, image, audio, PDF" in response.get_data(as_text=True)
    assert nothing_kept(app)


def test_unrecognisable_content_is_refused(ada, app):
    response = ada.upload("notes.txt", b"just some plain text\n" * 10)
    assert response.status_code == 415
    assert "not a type the library takes" in response.get_data(as_text=True)
    assert nothing_kept(app)


def test_content_that_contradicts_the_name_is_refused(ada, app, samples):
    response = ada.upload("handout.pdf", samples.png_bytes())
    assert response.status_code == 415
    assert "the name says .pdf but the content is a PNG file" in response.get_data(as_text=True)
    assert nothing_kept(app)


def test_browser_content_type_is_not_trusted(ada, app, samples):
    response = ada.client.post("/media/upload", data=b"MZ\x90\x00" + b"\x00" * 200, headers=ada.headers(
        htmx=False, **{"X-Filename": "movie.mp4", "Content-Type": "video/mp4"}))
    assert response.status_code == 415
    assert nothing_kept(app)


def test_empty_file_is_refused(ada, app):
    response = ada.upload("empty.png", b"")
    assert response.status_code == 400
    assert "empty" in response.get_data(as_text=True)
    assert nothing_kept(app)


def test_oversize_upload_is_refused_before_it_is_stored(ada, app, samples):
    app.config["MAX_UPLOAD_BYTES"] = 1000
    response = ada.upload("big.jpg", samples.jpeg_bytes(800, 800))
    assert response.status_code == 413
    assert "larger than the" in response.get_data(as_text=True) and "upload limit" in response.get_data(as_text=True)
    assert nothing_kept(app)


def test_oversize_upload_without_a_length_is_cut_off_while_reading(ada, app, samples):
    app.config["MAX_UPLOAD_BYTES"] = 1000
    body = samples.jpeg_bytes(800, 800)
    response = ada.client.post("/media/upload", input_stream=io.BytesIO(body), headers=ada.headers(
        htmx=False, **{"X-Filename": "big.jpg", "Content-Type": "application/octet-stream"}),
        environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert nothing_kept(app)


def test_oversize_file_in_a_form_upload_leaves_nothing_behind(ada, app, samples):
    app.config["MAX_UPLOAD_BYTES"] = 1000
    response = ada.client.post("/media/upload", data={
        "csrf_token": ada.token, "files": [(io.BytesIO(samples.jpeg_bytes(800, 800)), "big.jpg")]},
        content_type="multipart/form-data")
    assert response.status_code == 413
    assert nothing_kept(app)


@pytest.mark.parametrize("hostile, expected", [
    ("../../etc/passwd.png", "\u2215..\u2215etc\u2215passwd.png"),  # a label, not a path: nothing is cut
    ("C:\\Users\\me\\Desktop\\photo.png", "C:\u29f5Users\u29f5me\u29f5Desktop\u29f5photo.png"),
    ("Q&A session 1/2.png", "Q&A session 1\u22152.png"),
    ("evil\x00name.png", "evilname.png"),
    ("line\nbreak\r\n.png", "line break.png"),
    ("\u202egnp.exe\u202c.png", "gnp.exe.png"),
    ("...hidden.png", "hidden.png"),
    ("   ", "untitled.png"),
    ("x" * 400 + ".png", "x" * 196 + ".png"),
])
def test_hostile_file_names_are_made_safe_for_display(ada, worker, samples, hostile, expected):
    from urllib.parse import quote
    response = ada.client.post("/media/upload", data=samples.png_bytes(), headers=ada.headers(
        htmx=False, **{"X-Filename": quote(hostile), "Content-Type": "application/octet-stream"}))
    assert response.status_code == 201
    media = db.session.scalars(db.select(MediaFile)).one()
    assert media.name == expected
    assert "/" not in media.storage_key.rsplit("/", 1)[1] and hostile not in media.storage_key


def test_script_in_names_tags_and_descriptions_is_rendered_as_text(ada, worker, samples):
    script = "<script>alert(1)</script>"
    ada.upload(f"{script}.png", samples.png_bytes())
    worker()
    media = db.session.scalars(db.select(MediaFile)).one()
    ada.post(f"/media/{media.id}/tags", {"tags": script})
    ada.post(f"/media/{media.id}/details", {"description": script, "category": script})
    for response in (ada.get("/media"), ada.get("/media/grid", htmx=True), ada.get(f"/media/{media.id}", htmx=True),
                     ada.get(f"/media/{media.id}"), ada.get("/operations/active"), ada.get("/tags/suggest?q=%3C")):
        html = response.get_data(as_text=True)
        assert "<script>alert" not in html, response.request.path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True)


def test_pages_forbid_inline_scripts(ada):
    policy = ada.get("/media").headers["Content-Security-Policy"]
    # 'wasm-unsafe-eval' (WebAssembly for hashing chosen files) allows no JavaScript eval; 'unsafe-eval' would
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "'unsafe-eval'" not in policy
