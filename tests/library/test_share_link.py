"""Copy link: a file's details offer a signed address of its bytes that works without signing in, says
in words when it expires (SHARE_LINK_DAYS), and stops working after."""
import html
import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from mediamgr.config import ConfigError, load_config
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile

from factories import stored_files
from helpers import IsolatedClient

def link_in(page):
    return html.unescape(re.search(r'<input id="share-url-\d+" type="text" readonly value="([^"]+)" data-copy-source>', page).group(1))

def test_the_link_opens_the_file_without_signing_in_and_says_when_it_expires(ada, app):
    media_id = stored_files("ada@example.com", {"syllabus.pdf": b"%PDF-1.4 the syllabus"})[0]
    page = ada.get(f"/media/{media_id}", htmx=True).get_data(as_text=True)
    assert "Copy link" in page and "Link copied" in page  # the button, and the toast it shows
    soon = datetime.now(timezone.utc) + timedelta(days=7)
    dates = "|".join({f"{moment:%-d %b %Y}" for moment in (soon, soon - timedelta(minutes=5))})  # signed for its window
    assert re.search(rf"Link expires in 7 days, on <time[^>]*>({dates})</time>", page), page[page.find("share-expiry"):][:400]
    url = link_in(page)
    assert url.startswith("http://localhost/files/")  # absolute: it is pasted elsewhere
    anonymous = IsolatedClient(app)  # a student, not signed in
    served = anonymous.get(url.removeprefix("http://localhost"))
    assert served.status_code == 200 and served.get_data() == b"%PDF-1.4 the syllabus"
    assert "attachment" in served.headers["Content-Disposition"]  # a document downloads, never runs on our origin

def test_the_link_stops_working_when_it_expires(ada, app, monkeypatch):
    app.config["SHARE_LINK_DAYS"] = 1
    media_id = stored_files("ada@example.com", {"clip.mp4": b"not really a video"}, kind="video")[0]
    page = ada.get(f"/media/{media_id}", htmx=True).get_data(as_text=True)
    assert "Link expires in a day" in page
    path = link_in(page).removeprefix("http://localhost")
    assert ada.client.get(path).status_code == 200
    later = time.time() + 86400 + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert ada.client.get(path).status_code == 404

def test_no_link_for_a_file_in_the_trash_or_still_processing(ada):
    trashed, processing = stored_files("ada@example.com", {"a.pdf": b"a", "b.pdf": b"b"})
    ada.post(f"/media/{trashed}/trash")
    db.session.get(MediaFile, processing).ready_at = None
    db.session.commit()
    for media_id in (trashed, processing):
        assert "Copy link" not in ada.get(f"/media/{media_id}", htmx=True).get_data(as_text=True)

def test_share_link_days_is_checked_at_start(tmp_path):
    s3 = {"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": "https://s3.us-west-004.backblazeb2.com", "S3_BUCKET": "b",
          "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s", "SECRET_KEY": "x"}
    with pytest.raises(ConfigError, match="SHARE_LINK_DAYS must be at most 7"):
        load_config(tmp_path, {**s3, "SHARE_LINK_DAYS": "8"})
    with pytest.raises(ConfigError, match="SHARE_LINK_DAYS must be a whole number"):
        load_config(tmp_path, {"SECRET_KEY": "x", "SHARE_LINK_DAYS": "a week"})
    assert load_config(tmp_path, {"SECRET_KEY": "x", "SHARE_LINK_DAYS": "30"})["SHARE_LINK_DAYS"] == 30
