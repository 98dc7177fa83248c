"""Details, rename, tags, description and category, trash, restore and permanent delete."""
import html
import re

import pytest

from mediamgr.extensions import db
from mediamgr.library.models import MediaEvent, MediaFile
from mediamgr.storage import get_storage


@pytest.fixture
def video(ada, worker, samples):
    ada.upload("Lecture 1.webm", samples.video_bytes(seconds=1, black_seconds=0))
    worker()
    return db.session.scalars(db.select(MediaFile)).one()


def actions(media_id):
    return [e.action for e in db.session.scalars(db.select(MediaEvent).where(MediaEvent.media_id == media_id)
                                                  .order_by(MediaEvent.id))]


def test_details_dialog_and_full_page(ada, video):
    dialog = ada.get(f"/media/{video.id}", htmx=True)
    page = ada.get(f"/media/{video.id}")
    assert 'role="dialog"' in dialog.get_data(as_text=True) and "<html" not in dialog.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)
    assert "HX-Request" in dialog.headers["Vary"] and "HX-Request" in page.headers["Vary"]
    html = dialog.get_data(as_text=True)
    for text in ("<video", "160 × 96", video.sha256, "Lecture 1.webm", "History", "Uploaded “Lecture 1.webm”"):
        assert text in html


def test_preview_url_is_signed_expiring_and_serves_ranges(ada, video, app):
    html = ada.get(f"/media/{video.id}", htmx=True).get_data(as_text=True)
    url = re.search(r'<video[^>]* src="([^"]+)"', html).group(1).replace("&amp;", "&")
    whole = ada.client.get(url)
    part = ada.client.get(url, headers={"Range": "bytes=0-99"})
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "video/webm"
    assert part.status_code == 206 and len(part.data) == 100
    assert ada.client.get(url[:-3] + "abc").status_code == 404


def test_signed_url_expires(ada, video, app, monkeypatch):
    import time
    html = ada.get(f"/media/{video.id}", htmx=True).get_data(as_text=True)
    url = re.search(r'<video[^>]* src="([^"]+)"', html).group(1).replace("&amp;", "&")
    later = time.time() + app.config["SIGNED_URL_TTL"] + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert ada.client.get(url).status_code == 404


def test_rename_keeps_the_extension_and_is_recorded(ada, video):
    response = ada.post(f"/media/{video.id}/rename", {"name": "Welcome"})
    assert response.status_code == 200
    db.session.refresh(video)
    assert video.name == "Welcome.webm" and video.original_name == "Lecture 1.webm"
    assert 'id="media-' in response.get_data(as_text=True)  # the card is swapped too
    assert actions(video.id)[-1] == "renamed"


def test_rename_refuses_an_empty_name(ada, video):
    response = ada.post(f"/media/{video.id}/rename", {"name": "   "})
    assert response.status_code == 422
    assert "The name can't be empty." in html.unescape(response.get_data(as_text=True))
    db.session.refresh(video)
    assert video.name == "Lecture 1.webm"


def test_a_name_is_a_label_not_a_path(ada, video):
    """Issue 13: "Q&A session 1/2" once became "2.webm" with a success toast."""
    response = ada.post(f"/media/{video.id}/rename", {"name": "Q&A session 1/2"})
    db.session.refresh(video)
    assert video.name == "Q&A session 1\u22152.webm"
    toast = html.unescape(response.get_data(as_text=True))
    assert "Renamed to “Q&A session 1\u22152.webm”." in toast
    assert "“/” cannot be part of a name, so it is shown as “\u2215”." in toast
    ada.post(f"/media/{video.id}/rename", {"name": "back\\slash / both"})
    db.session.refresh(video)
    assert video.name == "back\u29f5slash \u2215 both.webm"
    plain = html.unescape(ada.post(f"/media/{video.id}/rename", {"name": "Plain name"}).get_data(as_text=True))
    assert "Renamed to “Plain name.webm”." in plain and "cannot be part" not in plain


def test_typing_the_extension_does_not_double_it(ada, video):
    ada.post(f"/media/{video.id}/rename", {"name": "Week 2.webm"})
    db.session.refresh(video)
    assert video.name == "Week 2.webm"


@pytest.mark.both_databases
def test_tags_are_normalised_added_and_removed(ada, video):
    ada.post(f"/media/{video.id}/tags", {"tags": "  Week   1 , Intro, week 1"})
    db.session.refresh(video)
    assert video.tag_names == ["intro", "week 1"]
    ada.post(f"/media/{video.id}/tags/remove", {"tag": "intro"})
    db.session.refresh(video)
    assert video.tag_names == ["week 1"]
    assert actions(video.id)[-2:] == ["tagged", "tagged"]


def test_description_and_category(ada, video):
    ada.post(f"/media/{video.id}/details", {"description": "First lecture", "category": "Lecture"})
    db.session.refresh(video)
    assert (video.description, video.category) == ("First lecture", "Lecture")
    assert actions(video.id)[-1] == "updated"


@pytest.mark.both_databases
def test_trash_undo_and_restore(ada, video):
    response = ada.post(f"/media/{video.id}/trash")
    assert "Undo" in response.get_data(as_text=True) and "close-dialog" in response.headers["HX-Trigger-After-Swap"]
    assert f'data-media-id="{video.id}"' not in ada.get("/media").get_data(as_text=True)
    assert "Lecture 1.webm" in ada.get("/media/trash").get_data(as_text=True)
    ada.post(f"/media/{video.id}/restore")
    db.session.refresh(video)
    assert (video.status, video.deleted_at) == ("ready", None)
    assert actions(video.id)[-2:] == ["trashed", "restored"]


def test_a_file_in_the_trash_is_read_only_until_restored(ada, video):
    ada.post(f"/media/{video.id}/tags", {"tags": "week 1"})
    ada.post(f"/media/{video.id}/trash")
    html = ada.get(f"/media/{video.id}", htmx=True).get_data(as_text=True)
    assert "Restore it to rename it" in html and ">Rename</button>" not in html and "Save details" not in html
    for url, form in ((f"/media/{video.id}/rename", {"name": "other"}), (f"/media/{video.id}/tags", {"tags": "x"}),
                      (f"/media/{video.id}/details", {"description": "x", "category": "y"})):
        answer = ada.post(url, form)
        assert answer.status_code == 422 and "restore it to edit it" in answer.get_data(as_text=True), url
    untag = ada.post(f"/media/{video.id}/tags/remove", {"tag": "week 1"})
    assert untag.status_code == 409 and "restore it to edit it" in untag.get_data(as_text=True)
    db.session.refresh(video)
    assert (video.name, video.tag_names, video.description) == ("Lecture 1.webm", ["week 1"], "")


@pytest.mark.both_databases
def test_permanent_delete_only_from_trash_and_removes_the_bytes_after_commit(ada, video, worker):
    key, thumb, media_id = video.storage_key, video.thumbnail_key, video.id
    assert ada.post(f"/media/{media_id}/delete").status_code == 409
    ada.post(f"/media/{media_id}/trash")
    response = ada.post(f"/media/{media_id}/delete")
    assert response.status_code == 200
    assert db.session.scalar(db.select(MediaFile).where(MediaFile.id == media_id)) is None
    assert get_storage().exists(key)  # the request never waits on storage: a worker removes the bytes
    worker()
    assert not get_storage().exists(key) and not get_storage().exists(thumb)
    event = db.session.scalars(db.select(MediaEvent).where(MediaEvent.action == "deleted")).one()
    assert event.media_name == "Lecture 1.webm" and event.media_id is None


@pytest.mark.both_databases
def test_deleting_one_of_two_identical_files_keeps_the_shared_bytes(ada, worker, samples):
    content = samples.png_bytes()
    ada.upload("a.png", content)
    ada.upload("b.png", content)
    worker()
    first, second = db.session.scalars(db.select(MediaFile).order_by(MediaFile.id)).all()
    key, first_id = second.storage_key, first.id
    ada.post(f"/media/{first_id}/trash")
    ada.post(f"/media/{first_id}/delete")
    assert get_storage().exists(key)


def test_edits_without_javascript_redirect_back_to_the_details_page(ada, video):
    response = ada.post(f"/media/{video.id}/rename", {"name": "No JS", "csrf_token": ada.token}, htmx=False)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/media/{video.id}")


def test_trashing_from_the_full_details_page_goes_back_to_the_library(ada, video):
    response = ada.client.post(f"/media/{video.id}/trash", headers=ada.headers(**{"X-Details-Page": "true"}))
    assert response.headers["HX-Redirect"] == "/media"
    assert "moved to trash" in ada.get("/media").get_data(as_text=True)


def test_restoring_on_the_trash_page_removes_its_row(ada, video):
    ada.post(f"/media/{video.id}/trash")
    response = ada.client.post(f"/media/{video.id}/restore", headers=ada.headers(**{"HX-Current-URL": "http://localhost/media/trash"}))
    assert f'id="trash-{video.id}" hx-swap-oob="delete"' in response.get_data(as_text=True)
