"""Alt text of images: written in the details, suggested from the file name while empty, refused with
a clear message past its length, and used on every <img> that shows the image (card, details preview,
trash, picker, course editor)."""
import html
import re

import pytest
import sqlalchemy as sa

from mediamgr.extensions import db
from mediamgr.library.alt_text import suggested_alt_text
from mediamgr.library.models import MediaEvent, MediaFile

from factories import course_with_chapters, link, make_files


def image(email="ada@example.com", name="lecture-diagram_v2.png"):
    media_id = make_files(email, 1, kind="image")[0]
    db.session.execute(sa.update(MediaFile).where(MediaFile.id == media_id).values(
        name=name, name_key=name.lower(), thumbnail_key=f"thumbs/{media_id}.webp"))
    db.session.commit()
    return media_id


def alts(page):
    return [html.unescape(alt) for alt in re.findall(r'<img [^>]*alt="([^"]*)"', page)]


def test_the_suggestion_comes_from_the_file_name():
    assert suggested_alt_text("lecture-diagram_v2.png") == "Lecture diagram v2"
    assert suggested_alt_text("IMG__0042.JPG") == "IMG 0042"
    assert suggested_alt_text("v1.2 notes.png") == "V1.2 notes"
    assert suggested_alt_text("") == ""


@pytest.mark.both_databases
def test_alt_text_is_written_in_the_details_and_used_wherever_the_image_is_shown(ada):
    media_id = image()
    details = ada.get(f"/media/{media_id}", htmx=True).get_data(as_text=True)
    assert 'placeholder="Lecture diagram v2"' in details and "Use suggestion: “Lecture diagram v2”" in details
    saved = ada.post(f"/media/{media_id}/details", {"description": "", "category": "",
                                                   "alt_text": "  Flow chart: request → queue → worker  "})
    assert saved.status_code == 200 and "Details saved." in saved.get_data(as_text=True)
    assert db.session.get(MediaFile, media_id).alt_text == "Flow chart: request → queue → worker"
    assert "Changed the alt text" in [e.description for e in db.session.scalars(
        sa.select(MediaEvent).where(MediaEvent.media_id == media_id))]
    wanted = "Flow chart: request → queue → worker"
    assert wanted in alts(ada.get("/media").get_data(as_text=True))  # the card
    assert wanted in alts(ada.get(f"/media/{media_id}").get_data(as_text=True))  # the details page's preview
    course_id, (chapter,) = course_with_chapters(ada, "Week 1")
    link(ada, chapter, [media_id])
    assert wanted in alts(ada.get(f"/courses/{course_id}/edit").get_data(as_text=True))  # the course editor
    assert wanted in alts(ada.get(f"/chapters/{chapter}/picker/results?type=image").get_data(as_text=True))  # picker
    ada.post(f"/media/{media_id}/trash", {"unlink": "1"})
    assert wanted in alts(ada.get("/media/trash").get_data(as_text=True))


def test_too_long_alt_text_is_refused_with_how_long_it_is(ada):
    media_id = image()
    answer = ada.post(f"/media/{media_id}/details", {"description": "kept as typed", "category": "", "alt_text": "x" * 260})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Alt text can be at most 250 characters; this is 260." in text
    assert re.search(r'id="alt_text"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="alt_text"', text)
    assert db.session.get(MediaFile, media_id).alt_text == "" and db.session.get(MediaFile, media_id).description == ""


def test_only_images_have_alt_text(ada):
    media_id = make_files("ada@example.com", 1, kind="video")[0]
    details = ada.get(f"/media/{media_id}", htmx=True).get_data(as_text=True)
    assert "Alt text" not in details
    ada.post(f"/media/{media_id}/details", {"description": "", "category": "", "alt_text": "ignored"})
    assert db.session.get(MediaFile, media_id).alt_text == ""
