"""An upload from the request to Ready: staged, hashed, typed from its bytes, stored, probed, thumbnailed."""
import hashlib

from mediamgr.extensions import db
from mediamgr.library.models import MediaEvent, MediaFile
from mediamgr.progress.models import Operation
from mediamgr.storage import get_storage


def only_media():
    return db.session.scalars(db.select(MediaFile)).one()


def test_video_upload_becomes_ready_with_duration_dimensions_and_thumbnail(ada, worker, samples):
    content = samples.video_bytes(seconds=2, black_seconds=0.5)
    response = ada.upload("Lecture 1.webm", content)
    assert response.status_code == 201
    assert "Lecture 1.webm" in response.get_data(as_text=True)

    worker()

    media = only_media()
    assert (media.status, media.kind, media.mime_type) == ("ready", "video", "video/webm")
    assert media.sha256 == hashlib.sha256(content).hexdigest()
    assert (media.width, media.height, media.video_codec) == (160, 96, "vp8")
    assert 1.5 < media.duration_seconds < 2.5
    assert get_storage().exists(media.storage_key) and get_storage().exists(media.thumbnail_key)
    operation = db.session.scalars(db.select(Operation)).one()
    assert (operation.status, operation.stage, operation.processed) == ("succeeded", "ready", len(content))


def test_video_thumbnail_is_not_the_black_first_frame(ada, worker, samples, tmp_path):
    from PIL import Image, ImageStat

    ada.upload("intro.webm", samples.video_bytes(seconds=3, black_seconds=1.0))
    worker()
    media = only_media()
    thumbnail = tmp_path / "thumb.webp"
    get_storage().download_to(media.thumbnail_key, thumbnail)
    assert ImageStat.Stat(Image.open(thumbnail).convert("L")).mean[0] > 30


def test_image_pdf_audio_and_document_are_probed(ada, worker, samples):
    for name, content in (("photo.jpg", samples.jpeg_bytes(320, 200)), ("slides.pdf", samples.pdf_bytes()),
                          ("tone.wav", samples.wav_bytes(1.0)), ("notes.docx", samples.docx_bytes())):
        assert ada.upload(name, content).status_code == 201
    worker()
    files = {m.name: m for m in db.session.scalars(db.select(MediaFile))}
    assert {m.status for m in files.values()} == {"ready"}
    assert (files["photo.jpg"].kind, files["photo.jpg"].width, files["photo.jpg"].height) == ("image", 320, 200)
    assert files["photo.jpg"].thumbnail_key and files["slides.pdf"].thumbnail_key
    assert (files["slides.pdf"].kind, files["slides.pdf"].width) == ("document", 595)
    assert files["tone.wav"].kind == "audio" and 0.9 < files["tone.wav"].duration_seconds < 1.1
    assert files["notes.docx"].kind == "document" and files["notes.docx"].thumbnail_key is None


def test_staging_file_is_removed_once_ready(ada, worker, samples, app):
    from pathlib import Path

    ada.upload("a.png", samples.png_bytes())
    staging = Path(app.config["STAGING_DIR"])
    assert len(list(staging.iterdir())) == 1
    worker()
    assert list(staging.iterdir()) == []


def test_same_content_twice_is_stored_once_under_one_key(ada, worker, samples):
    content = samples.png_bytes()
    ada.upload("a.png", content)
    ada.upload("b.png", content)
    worker()
    first, second = db.session.scalars(db.select(MediaFile).order_by(MediaFile.id)).all()
    assert first.storage_key == second.storage_key
    assert {first.status, second.status} == {"ready"}


def test_upload_is_recorded_in_history(ada, worker, samples):
    ada.upload("a.png", samples.png_bytes())
    event = db.session.scalars(db.select(MediaEvent)).one()
    assert (event.action, event.media_name) == ("uploaded", "a.png")


def test_multipart_form_upload_without_javascript(ada, worker, samples):
    import io

    response = ada.client.post("/media/upload", data={
        "csrf_token": ada.token,
        "files": [(io.BytesIO(samples.png_bytes()), "one.png"), (io.BytesIO(samples.pdf_bytes()), "two.pdf")],
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    worker()
    assert sorted(m.name for m in db.session.scalars(db.select(MediaFile))) == ["one.png", "two.pdf"]
