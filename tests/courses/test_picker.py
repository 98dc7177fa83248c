"""The library picker of a chapter: filters (Video preset), marks files already in the chapter,
previews, pages, and adds the chosen files in the order chosen; scoped to the course's owner."""
import re

import sqlalchemy as sa

from factories import make_files
from mediamgr.courses.models import Chapter, ChapterItem
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile


def chapter_of(browser, title="Week 1"):
    answer = browser.post("/courses", {"title": "Algorithms"})
    course_id = int(re.search(r"/courses/(\d+)/edit", answer.headers["HX-Redirect"]).group(1))
    browser.post(f"/courses/{course_id}/chapters", {"title": title})
    return db.session.scalar(sa.select(Chapter.id).where(Chapter.course_id == course_id))


def listed(html):
    return [int(found) for found in re.findall(r'class="picker-item[^"]*" data-media-id="(\d+)"', html)]


def make_videos(email, count, prefix):
    ids = make_files(email, count, prefix=prefix)
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids)).values(kind="video", mime_type="video/webm"))
    db.session.commit()
    return ids


def test_picker_presets_video_and_filters_like_the_library(ada):
    videos = make_videos("ada@example.com", 3, "lecture")
    documents = make_files("ada@example.com", 2, prefix="syllabus")
    chapter = chapter_of(ada)
    dialog = ada.get(f"/chapters/{chapter}/picker", htmx=True).get_data(as_text=True)
    assert 'role="dialog"' in dialog and "Add files to “Week 1”" in dialog
    assert sorted(listed(dialog)) == sorted(videos)
    everything = ada.get(f"/chapters/{chapter}/picker/results?type=", htmx=True).get_data(as_text=True)
    assert sorted(listed(everything)) == sorted(videos + documents)
    searched = ada.get(f"/chapters/{chapter}/picker/results?type=&q=syllabus", htmx=True).get_data(as_text=True)
    assert sorted(listed(searched)) == sorted(documents)


def test_files_already_in_the_chapter_are_marked_and_the_choice_is_added_in_order(ada):
    """Marked, not disabled: choosing one again asks "Add it again?" (test_add_again.py)."""
    first, second, third = make_videos("ada@example.com", 3, "clip")
    chapter = chapter_of(ada)
    answer = ada.post(f"/chapters/{chapter}/items", {"media": [str(third), str(first)]})
    assert answer.status_code == 200 and "close-dialog" in answer.headers["HX-Trigger-After-Swap"]
    dialog = ada.get(f"/chapters/{chapter}/picker", htmx=True).get_data(as_text=True)
    assert dialog.count("In this chapter") == 2 and "Choose clip 00002.pdf (already in this chapter)" in dialog
    assert not re.search(rf'id="pick-{third}"[^>]*disabled', dialog)
    order = db.session.scalars(sa.select(ChapterItem.media_id).where(ChapterItem.chapter_id == chapter)
                               .order_by(ChapterItem.position)).all()
    assert order == [third, first]


def test_preview_and_pages(ada):
    videos = make_videos("ada@example.com", 30, "talk")
    chapter = chapter_of(ada)
    dialog = ada.get(f"/chapters/{chapter}/picker", htmx=True).get_data(as_text=True)
    assert len(listed(dialog)) == 24 and "Load more" in dialog
    cursor = re.search(r'picker/results\?[^"]*cursor=([^"&]+)', dialog).group(1)
    more = ada.get(f"/chapters/{chapter}/picker/results?type=video&cursor={cursor}", htmx=True).get_data(as_text=True)
    assert len(listed(more)) == 6 and not set(listed(more)) & set(listed(dialog))
    preview = ada.get(f"/chapters/{chapter}/picker/preview/{videos[0]}", htmx=True)
    assert preview.status_code == 200 and "talk 00000.pdf" in preview.get_data(as_text=True)


def test_the_picker_shows_only_the_course_owners_library(ada, ben):
    mine = make_videos("ada@example.com", 1, "mine")
    bens = make_videos("ben@example.com", 1, "theirs")
    chapter = chapter_of(ada)
    assert listed(ada.get(f"/chapters/{chapter}/picker", htmx=True).get_data(as_text=True)) == mine
    assert ben.get(f"/chapters/{chapter}/picker", htmx=True).status_code == 404
    assert ada.get(f"/chapters/{chapter}/picker/preview/{bens[0]}", htmx=True).status_code == 404
    assert ada.get(f"/chapters/{chapter}/picker/results?q=%3Cscript%3E&bogus=1", htmx=True).status_code == 200
