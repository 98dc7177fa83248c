"""Automatic captions behind TRANSCRIBE_BACKEND: off by default (the Captions section says how to turn
them on, and nothing is queued); with a backend, a job on the processing queue turns the speech into
the track of the chosen language, found by library search like an uploaded one."""
import html

import sqlalchemy as sa

from mediamgr.captions.models import Caption
from mediamgr.extensions import db
from mediamgr.jobs.names import PROCESSING, get_queue
from mediamgr.library.models import MediaFile

import transcribe_stub
from media_lab import Segment, lecture


def uploaded(browser, worker, tmp_path):
    browser.upload("lecture.mp4", lecture(tmp_path / "lecture.mp4", [Segment(3, 0), Segment(3, 1)]).read_bytes())
    worker()
    return db.session.scalar(sa.select(MediaFile))


def test_automatic_captions_are_off_until_a_backend_is_set(app, ada, worker, tmp_path):
    media = uploaded(ada, worker, tmp_path)
    details = html.unescape(ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True))
    assert "Automatic captions are off on this server." in details
    assert "pip install 'mediamgr[transcribe]'" in details and "TRANSCRIBE_BACKEND=faster-whisper" in details
    refused = ada.post(f"/media/{media.id}/captions/automatic", {"language": "en"}, htmx=True)
    assert refused.status_code == 409
    with app.app_context():
        assert get_queue(PROCESSING).count == 0


def test_a_backend_makes_a_track_that_search_finds(app, ada, ben, worker, tmp_path):
    media = uploaded(ada, worker, tmp_path)
    app.config["TRANSCRIBE_BACKEND"] = "transcribe_stub:transcribe"
    details = ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True)
    assert '<label for="auto-language-' in details and "Make captions automatically" in details
    assert ben.post(f"/media/{media.id}/captions/automatic", {"language": "en"}, htmx=True).status_code == 404
    assert ada.post(f"/media/{media.id}/captions/automatic", {"language": "xx"}, htmx=True).status_code == 422
    queued = ada.post(f"/media/{media.id}/captions/automatic", {"language": "en"}, htmx=True)
    assert "Making English captions from the speech" in html.unescape(queued.get_data(as_text=True))
    worker()
    assert transcribe_stub.CALLS[-1] == ("en", "small")
    track = db.session.scalar(sa.select(Caption))
    assert track.label == "English (automatic)" and track.cue_count == 2
    assert "00:00:00.500 --> 00:00:03.000\nToday: Dijkstra's algorithm." in track.vtt
    assert "→ Relaxing the edges." in track.vtt  # a cue's text can't end the cue early
    found = html.unescape(ada.get("/media/grid?q=dijkstra", htmx=True).get_data(as_text=True))
    assert f'id="media-{media.id}"' in found and "Said at 0:00" in found
