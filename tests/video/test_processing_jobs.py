"""Processing jobs from a file's details (issue 14 §4): each is an operation on the processing queue,
with Cancel; Trim, Normalise loudness and Watermark come back as the file's next version (the one
before stays, to restore); Extract audio adds a file; a file browsers can't play gets a web rendition
by itself, which the preview plays while Download gives the original. Other users' files and images
answer 404."""
import html
import re

import av
import pytest
import sqlalchemy as sa

from mediamgr.extensions import db
from mediamgr.jobs.names import PROCESSING, get_queue
from mediamgr.library.models import MediaEvent, MediaFile, MediaVersion, Rendition
from mediamgr.progress.models import Operation
from mediamgr.progress.publisher import publish_operation
from mediamgr.storage import get_storage
from mediamgr.video.quality import measure_loudness

from media_lab import Segment, lecture

SLIDES = [Segment(3, 0, -36), Segment(3, 1, -36), Segment(3, 2, -36), Segment(3, 3, -36)]  # 12 s, quiet


def upload(browser, worker, tmp_path, name="lecture.mp4", segments=SLIDES, **options):
    browser.upload(name, lecture(tmp_path / name, segments, size=(320, 180), **options).read_bytes())
    worker()
    return db.session.scalar(sa.select(MediaFile).where(MediaFile.name == name))


def current_content(app, media_id, tmp_path):
    db.session.expire_all()
    media = db.session.get(MediaFile, media_id)
    path = tmp_path / f"content-{media.sha256[:8]}"
    with app.app_context():
        get_storage().download_to(media.storage_key, path)
    return media, path


def processing_ops():
    db.session.expire_all()
    return db.session.scalars(sa.select(Operation).where(Operation.kind == "processing").order_by(Operation.id)).all()


@pytest.mark.both_databases
def test_trim_comes_back_as_the_next_version_and_the_untrimmed_one_can_be_restored(app, ada, ben, worker, tmp_path):
    media = upload(ada, worker, tmp_path)
    details = ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True)
    assert "Processing</h3>" in details and '<label for="trim-start-' in details and "Use current time" in details

    assert ben.post(f"/media/{media.id}/process/trim", {"start": "1", "end": "2"}, htmx=True).status_code == 404
    refused = ada.post(f"/media/{media.id}/process/trim", {"start": "0:07", "end": "0:02"}, htmx=True)
    assert refused.status_code == 422 and "The end of the trim must come after its start." in html.unescape(
        refused.get_data(as_text=True))
    started = ada.post(f"/media/{media.id}/process/trim", {"start": "0:02", "end": "7.5"}, htmx=True)
    page = html.unescape(started.get_data(as_text=True))
    assert started.status_code == 200 and "Trim “lecture.mp4” to 0:02–0:08: started." in page
    assert 'id="op-' in page and 'aria-label="Cancel: Trim “lecture.mp4” to 0:02–0:08"' in page
    with app.app_context():
        assert get_queue(PROCESSING).count == 1
    worker()

    (trim,) = processing_ops()
    assert trim.status == "succeeded", trim.error
    trimmed, path = current_content(app, media.id, tmp_path)
    assert abs(trimmed.duration_seconds - 5.5) <= 0.1 + 1e-6, trimmed.duration_seconds  # within one frame (10 fps)
    with av.open(str(path)) as container:
        assert [s.codec_context.name for s in container.streams] == ["h264", "aac"]
    versions = db.session.scalars(sa.select(MediaVersion).where(MediaVersion.media_id == media.id)
                                  .order_by(MediaVersion.number)).all()
    assert [(v.number, v.original_name) for v in versions] == [(1, "lecture.mp4"), (2, "lecture (trimmed).mp4")]
    assert trimmed.name == "lecture.mp4"  # the file keeps its name, tags and course links
    assert any("Replaced with “lecture (trimmed).mp4” (version 2)" in e.description
               for e in db.session.scalars(sa.select(MediaEvent).where(MediaEvent.media_id == media.id)))

    restored = ada.post(f"/media/{media.id}/versions/{versions[0].id}/restore", htmx=True)
    assert "Version 1 restored: it is now version 3." in restored.get_data(as_text=True)
    back, _ = current_content(app, media.id, tmp_path)
    assert abs(back.duration_seconds - 12.0) < 0.2


def test_normalise_makes_quiet_audio_meet_the_target_and_the_report_follows(app, ada, worker, tmp_path):
    media = upload(ada, worker, tmp_path)
    assert media.needs_attention
    details = html.unescape(ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True))
    assert re.search(r"Audio is quiet \(−\d\d LUFS\)", details) and ">Normalise loudness</button>" in details
    ada.post(f"/media/{media.id}/process/normalise", htmx=True)
    worker()
    assert processing_ops()[-1].status == "succeeded", processing_ops()[-1].error
    normalised, path = current_content(app, media.id, tmp_path)
    assert abs(measure_loudness(path).integrated_lufs - (-16.0)) <= 1.0
    assert not normalised.needs_attention  # the report of the new content found nothing quiet
    assert "Audio is quiet" not in html.unescape(ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True))


def test_a_file_browsers_cannot_play_gets_a_web_rendition_that_the_preview_plays(app, ada, worker, tmp_path):
    media = upload(ada, worker, tmp_path, name="phone.mkv", video_codec="libx265", audio_codec="libopus")
    worker()  # the web rendition the analysis asked for
    (job,) = processing_ops()
    assert job.title == "Make “phone.mkv” web-playable" and job.status == "succeeded", job.error
    rendition = db.session.scalar(sa.select(Rendition).where(Rendition.media_id == media.id, Rendition.spec == "web"))
    path = tmp_path / "web.mp4"
    with app.app_context():
        get_storage().download_to(rendition.storage_key, path)
    with av.open(str(path)) as container:
        assert [s.codec_context.name for s in container.streams] == ["h264", "aac"]
    boxes = path.read_bytes()
    assert boxes.index(b"moov") < boxes.index(b"mdat")  # faststart: playable while it downloads
    details = html.unescape(ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True))
    preview = ada.get(re.search(r'<video controls preload="metadata" src="([^"]+)"', details).group(1))
    assert preview.headers["Content-Type"] == "video/mp4" and preview.get_data()[4:8] == b"ftyp"
    assert "A web-playable copy is made" in details
    download = ada.get(re.search(r'href="([^"]+)"[^>]*>\s*Download\s*<', details).group(1))
    assert download.get_data()[:4] == b"\x1a\x45\xdf\xa3"  # the original: Matroska


def test_watermark_and_extract_audio(app, ada, ben, worker, tmp_path, samples):
    media = upload(ada, worker, tmp_path)
    ada.upload("logo.png", samples.png_bytes(64, 32, (250, 20, 20)))
    ben.upload("ben.png", samples.png_bytes())
    worker()
    logo = db.session.scalar(sa.select(MediaFile).where(MediaFile.name == "logo.png"))
    bens = db.session.scalar(sa.select(MediaFile).where(MediaFile.name == "ben.png"))
    details = ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True)
    assert f'<option value="{logo.id}">logo.png</option>' in details and "ben.png" not in details

    url = f"/media/{media.id}/process/watermark"
    assert ada.post(url, {"image": str(bens.id), "corner": "top-left", "opacity": "50"}, htmx=True).status_code == 404
    assert ada.post(url, {"image": str(logo.id), "corner": "middle", "opacity": "50"}, htmx=True).status_code == 422
    assert ada.post(url, {"image": str(logo.id), "corner": "top-left", "opacity": "500"}, htmx=True).status_code == 422
    assert ada.post(url, {"image": str(logo.id), "corner": "top-left", "opacity": "100"}, htmx=True).status_code == 200
    ada.post(f"/media/{media.id}/process/extract_audio", htmx=True)
    worker()
    assert [op.status for op in processing_ops()] == ["succeeded", "succeeded"], [op.error for op in processing_ops()]

    marked, path = current_content(app, media.id, tmp_path)
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0)).to_image()
    corner = frame.getpixel((int(320 * 0.03) + 5, int(320 * 0.03) + 3))
    far = frame.getpixel((300, 170))
    assert corner[0] > 180 and corner[1] < 90, corner  # the red logo, top left
    assert not (far[0] > 180 and far[1] < 90), far
    audio = db.session.scalar(sa.select(MediaFile).where(MediaFile.name.like("lecture (audio).%")))
    assert audio is not None and audio.kind == "audio" and audio.status == "ready"


def test_cancel_stops_a_job_and_leaves_the_file_as_it_was(app, ada, ben, worker, tmp_path):
    media = upload(ada, worker, tmp_path)
    ada.post(f"/media/{media.id}/process/trim", {"start": "1", "end": "5"}, htmx=True)
    (job,) = processing_ops()
    job.status, job.processed = "running", 40  # as the worker reports it midway
    db.session.commit()
    publish_operation(job)
    row = ada.get(f"/operations/{job.id}", htmx=True).get_data(as_text=True)
    assert '<progress max="100" value="40"' in row and "40% done" in row
    job.status, job.processed = "queued", 0
    db.session.commit()
    publish_operation(job)
    assert ben.post(f"/operations/{job.id}/cancel", htmx=True).status_code == 404
    cancelled = ada.post(f"/operations/{job.id}/cancel", htmx=True)
    assert cancelled.status_code == 200 and "cancelling" in cancelled.get_data(as_text=True)
    worker()
    assert processing_ops()[0].status == "cancelled"
    db.session.expire_all()
    assert db.session.get(MediaFile, media.id).sha256 == media.sha256
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaVersion)
                             .where(MediaVersion.media_id == media.id)) == 1


def test_normalise_and_make_web_playable_from_the_selection_bar(app, ada, worker, tmp_path, samples):
    first = upload(ada, worker, tmp_path, name="one.mp4")
    second = upload(ada, worker, tmp_path, name="two.mp4")
    ada.upload("slide.png", samples.png_bytes())
    worker()
    image = db.session.scalar(sa.select(MediaFile).where(MediaFile.name == "slide.png"))
    page = ada.get("/media").get_data(as_text=True)
    assert 'value="normalise"' in page and ">Normalise loudness</button>" in page and ">Make web-playable</button>" in page

    ids = [str(first.id), str(second.id), str(image.id)]
    assert ada.post("/media/bulk", {"action": "normalise", "scope": "library", "ids": ids}).status_code in (200, 302)
    worker()
    bulk = db.session.scalar(sa.select(Operation).where(Operation.kind == "bulk"))
    assert (bulk.status, bulk.processed, bulk.failed) == ("succeeded", 3, 1)
    jobs = processing_ops()
    assert sorted(op.title for op in jobs) == ["Normalise the loudness of “one.mp4”", "Normalise the loudness of “two.mp4”"]
    assert all(op.status == "succeeded" for op in jobs), [op.error for op in jobs]
    versions = db.session.scalars(sa.select(MediaVersion.media_id).where(MediaVersion.number == 2)).all()
    assert sorted(versions) == sorted([first.id, second.id])

    ada.post("/media/bulk", {"action": "web_rendition", "scope": "library", "ids": ids[:2]})
    worker()
    latest = db.session.scalars(sa.select(Operation).where(Operation.kind == "bulk").order_by(Operation.id)).all()[-1]
    assert (latest.processed, latest.failed) == (2, 2)  # browsers play both already: nothing to make
    assert len(processing_ops()) == 2


def test_watermark_from_the_selection_bar(app, ada, ben, worker, tmp_path, samples):
    media = upload(ada, worker, tmp_path, name="one.mp4")
    ada.upload("logo.png", samples.png_bytes(64, 32, (250, 20, 20)))
    ben.upload("ben.png", samples.png_bytes())
    worker()
    logo = db.session.scalar(sa.select(MediaFile).where(MediaFile.name == "logo.png"))
    bens = db.session.scalar(sa.select(MediaFile).where(MediaFile.name == "ben.png"))
    ids = [str(media.id), str(logo.id)]
    dialog = html.unescape(ada.post("/media/bulk/dialog", {"action": "watermark", "scope": "library", "ids": ids},
                                    htmx=True).get_data(as_text=True))
    assert "Watermark 2 files" in dialog and f'<option value="{logo.id}">logo.png</option>' in dialog
    assert "ben.png" not in dialog
    taken = {"action": "watermark", "scope": "library", "ids": ids, "corner": "top-left", "opacity": "60"}
    assert ada.post("/media/bulk", {**taken, "image": str(bens.id)}).status_code == 404
    assert ada.post("/media/bulk", {**taken, "opacity": "0", "image": str(logo.id)}).status_code == 400
    ada.post("/media/bulk", {**taken, "image": str(logo.id)})
    worker()
    (job,) = processing_ops()
    assert job.title == "Watermark “one.mp4”" and job.status == "succeeded", job.error
    bulk = db.session.scalar(sa.select(Operation).where(Operation.kind == "bulk"))
    assert (bulk.processed, bulk.failed) == (2, 1)  # the image itself is skipped
    assert db.session.scalar(sa.select(sa.func.max(MediaVersion.number)).where(MediaVersion.media_id == media.id)) == 2
