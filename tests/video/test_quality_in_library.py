"""The quality report in the library: made by the analysis job on the processing queue after an
upload, shown under "Quality" in the details with its loudness image, as a score badge on the card,
and behind the "Needs attention" filter; made again for restored content; another user's answers 404."""
import html
import re

import pytest
import sqlalchemy as sa

from mediamgr.extensions import db
from mediamgr.jobs.names import PROCESSING, QUICK_QUEUES, get_queue
from mediamgr.library.models import MediaFile
from mediamgr.video.models import QualityReport

from media_lab import Segment, audio_file, lecture

CLEAN = [Segment(4, 0, -12), Segment(4, 1, -12)]  # about −15.7 LUFS: within the target
QUIET = [Segment(4, 0, -38), Segment(4, 1, -38)]


def upload(browser, tmp_path, name, segments, **options):
    path = lecture(tmp_path / name, segments, size=(320, 180), **options) if not name.endswith(".wav") \
        else audio_file(tmp_path / name, segments)
    answer = browser.upload(name, path.read_bytes())
    assert answer.status_code in (200, 201), answer.get_data(as_text=True)
    return db.session.scalar(sa.select(MediaFile).where(MediaFile.name == name))


@pytest.mark.both_databases
def test_reports_badges_and_the_needs_attention_filter(app, ada, ben, worker, tmp_path):
    clean = upload(ada, tmp_path, "clean.mp4", CLEAN)
    quiet = upload(ada, tmp_path, "quiet.mp4", QUIET)
    hevc = upload(ada, tmp_path, "phone.mkv", CLEAN, video_codec="libx265", audio_codec="libopus")
    talk = upload(ada, tmp_path, "talk.wav", QUIET)
    with app.app_context():  # the analysis waits on the processing queue, apart from uploads
        assert get_queue(PROCESSING).count == 0 and get_queue(QUICK_QUEUES[0]).count == 4
    worker()
    with app.app_context():
        assert get_queue(PROCESSING).count == 0
    db.session.expire_all()

    scores = {m.name: (m.quality_score, m.needs_attention) for m in db.session.scalars(sa.select(MediaFile))}
    assert scores["clean.mp4"][0] >= 90 and not scores["clean.mp4"][1]
    assert scores["quiet.mp4"][1] and scores["phone.mkv"][1] and scores["talk.wav"][1]
    assert all(row.status == "ready" for row in db.session.scalars(sa.select(QualityReport)))

    details = html.unescape(ada.get(f"/media/{quiet.id}", htmx=True).get_data(as_text=True))
    assert "Quality</h3>" in details and "Needs attention" in details
    assert re.search(r"Audio is quiet \(−\d\d LUFS\); aim for −16 to −14 LUFS\.", details)
    image = re.search(r'<figure class="loudness-figure">\s*<img src="([^"]+)"', details).group(1)
    assert ada.get(image).headers["Content-Type"] == "image/png"
    assert "Browsers can't play MKV files." in html.unescape(ada.get(f"/media/{hevc.id}", htmx=True).get_data(as_text=True))
    assert "Nothing to fix" not in details

    grid = html.unescape(ada.get("/media/grid?quality=attention", htmx=True).get_data(as_text=True))
    shown = set(re.findall(r'id="media-(\d+)"', grid))
    assert shown == {str(quiet.id), str(hevc.id), str(talk.id)}, shown
    assert "3 files · needing attention" in " ".join(grid.split()) or "needing attention" in grid
    assert "Quality score " in grid and "needs attention" in grid
    page = ada.get("/media?quality=attention&unknown=1").get_data(as_text=True)
    assert '<option value="attention" selected>Needs attention</option>' in page

    assert ben.get(f"/media/{quiet.id}/analysis", htmx=True).status_code == 404
    assert ben.post(f"/media/{quiet.id}/analysis", htmx=True).status_code == 404
    assert ben.get("/media/grid?quality=attention", htmx=True).get_data(as_text=True).count('class="media-card') == 0
    assert clean.id


def test_the_details_poll_until_the_report_is_ready(ada, worker, tmp_path):
    media = upload(ada, tmp_path, "lecture.mp4", CLEAN)
    worker()
    again = ada.post(f"/media/{media.id}/analysis", htmx=True).get_data(as_text=True)
    assert "Measuring the picture and the sound" in again and 'hx-trigger="every 3s"' in again
    assert "Looking for chapters" not in again  # the markers of the content stay while it is measured again
    waiting = ada.get(f"/media/{media.id}/analysis", htmx=True).get_data(as_text=True)
    assert "every 3s" in waiting and "hx-swap-oob" not in waiting
    worker()
    done = ada.get(f"/media/{media.id}/analysis", htmx=True).get_data(as_text=True)
    assert "every 3s" not in done and 'id="chapters-' in done and 'hx-swap-oob="true"' in done
    assert f'id="media-{media.id}"' in done  # the card, with its badge
