"""Usage tracking: the usage count every file carries stays equal to its links through link, unlink,
move, chapter and course delete; the grid, the details' "Where used", the history, the Course and
Usage filters and the Most used sort; and uploads made straight into a chapter."""
import base64
import re

import pytest
import sqlalchemy as sa

from factories import make_files
from mediamgr.courses.models import ChapterItem
from mediamgr.extensions import db
from mediamgr.library.models import MediaEvent, MediaFile

from test_chapter_items import course_with_chapters, item_ids, link


def usage(*media_ids):
    """(kept count, actual number of links) per file: the two must always agree."""
    db.session.expire_all()
    return [(db.session.get(MediaFile, media_id).usage_count,
             db.session.scalar(sa.select(sa.func.count()).where(ChapterItem.media_id == media_id)))
            for media_id in media_ids]


def history(media_id, action):
    return [event.description for event in db.session.scalars(
        sa.select(MediaEvent).where(MediaEvent.media_id == media_id, MediaEvent.action == action)
        .order_by(MediaEvent.id))]


def grid_ids(browser, **args):
    page = browser.get("/media/grid", htmx=True, query_string=args).get_data(as_text=True)
    return [int(found) for found in re.findall(r'id="media-(\d+)"', page)], page


@pytest.mark.both_databases
def test_counts_follow_link_move_unlink_chapter_and_course_delete(ada):
    a, b, c = make_files("ada@example.com", 3)
    course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, [a, b])
    link(ada, week2, [a])
    assert usage(a, b, c) == [(2, 2), (1, 1), (0, 0)]
    first, second = item_ids(week1)
    ada.post(f"/items/{first}/move", {"direction": "chapter", "chapter": str(week2)})
    assert usage(a, b) == [(2, 2), (1, 1)]  # a move changes no count
    ada.post(f"/items/{second}/remove")
    assert usage(b) == [(0, 0)]
    ada.post(f"/chapters/{week2}/delete")
    assert usage(a) == [(0, 0)]
    link(ada, week1, [a, c])
    assert ada.post(f"/courses/{course}/delete").status_code == 204
    assert usage(a, b, c) == [(0, 0), (0, 0), (0, 0)]
    assert db.session.get(MediaFile, a) is not None  # files stay in the library
    assert history(a, "linked") == ["Added to “Algorithms” › “Week 1”", "Added to “Algorithms” › “Week 2”",
                                    "Added to “Algorithms” › “Week 1”"]
    assert history(a, "unlinked") == ["Removed from “Algorithms” › “Week 2” (chapter deleted)"] * 2 + [
        "Removed from “Algorithms” › “Week 1” (course deleted)"]  # its own link and the one moved there
    assert history(b, "unlinked") == ["Removed from “Algorithms” › “Week 1”"]


@pytest.mark.both_databases
def test_grid_shows_used_in_n_without_extra_queries_and_details_say_where(ada):
    a, b = make_files("ada@example.com", 2)
    _course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, [a])
    link(ada, week2, [a])
    _ids, page = grid_ids(ada)
    card_a = page[page.index(f'id="media-{a}"'):].split("</li>")[0]
    card_b = page[page.index(f'id="media-{b}"'):].split("</li>")[0]
    assert "Used in 2" in card_a and "Used in" not in card_b
    details = ada.get(f"/media/{a}", htmx=True).get_data(as_text=True)
    assert "Where used" in details and "Week 1" in details and "Week 2" in details
    assert f'href="/courses/{_course}/edit#item-' in details
    item = item_ids(week2)[0]
    answer = ada.post(f"/items/{item}/unlink")
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert "Removed from “Algorithms” › “Week 2”." in body and "Used in 1" in body  # toast and the card again
    assert usage(a) == [(1, 1)]


@pytest.mark.both_databases
def test_course_and_usage_filters_and_most_used_sort(ada, ben):
    a, b, c, d = make_files("ada@example.com", 4)
    course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, [a, b])
    link(ada, week2, [b])
    other = re.search(r"/courses/(\d+)/", ada.post("/courses", {"title": "Zoology"}).headers["HX-Redirect"]).group(1)
    ids, page = grid_ids(ada, course=course)
    assert sorted(ids) == sorted([a, b]) and "2 files" in page
    assert grid_ids(ada, course=other)[0] == []
    assert sorted(grid_ids(ada, usage="used")[0]) == sorted([a, b])
    assert sorted(grid_ids(ada, usage="unused")[0]) == sorted([c, d])
    assert grid_ids(ada, sort="most_used")[0][:2] == [b, a]
    assert grid_ids(ada, usage="nonsense", course="x' or 1=1")[0] != []  # bad values fall back to All
    page = ada.get("/media").get_data(as_text=True)
    assert "Algorithms (2)" in page and "Zoology (0)" in page
    # another instructor's course filters to nothing, and is not offered
    assert grid_ids(ben, course=course)[0] == [] and "Algorithms" not in ben.get("/media").get_data(as_text=True)


@pytest.mark.both_databases
def test_most_used_sort_pages_through_every_file_once(ada):
    files = make_files("ada@example.com", 60)
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, files[:30])
    link(ada, week1, files[:10])
    seen, cursor = [], None
    while True:
        args = {"sort": "most_used", **({"cursor": cursor} if cursor else {})}
        ids, page = grid_ids(ada, **args)
        seen += ids
        found = re.search(r'cursor=([^"&]+)', page)
        if not found:
            break
        cursor = found.group(1)
    assert sorted(seen) == sorted(files) and set(seen[:10]) == set(files[:10])


def upload_into(browser, chapter_id, name, content):
    return browser.client.post("/media/upload", data=content, headers=browser.headers(
        htmx=False, **{"X-Filename": name, "Content-Type": "application/octet-stream",
                       "X-Requested-With": "XMLHttpRequest", "X-Link-Chapter": str(chapter_id)}))


def test_upload_new_into_a_chapter_links_the_file_when_it_is_ready(ada, ben, worker, samples):
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    existing = make_files("ada@example.com", 1)
    link(ada, week1, existing)
    assert upload_into(ada, week1, "intro.png", samples.png_bytes()).status_code == 201
    media = db.session.scalar(sa.select(MediaFile).where(MediaFile.name == "intro.png"))
    assert media.status == "processing" and item_ids(week1) == item_ids(week1)[:1]  # not linked before it is ready
    worker()
    db.session.expire_all()
    titles = [item.title for item in db.session.scalars(sa.select(ChapterItem).where(ChapterItem.chapter_id == week1)
                                                       .order_by(ChapterItem.position))]
    assert titles[-1] == "intro" and usage(media.id) == [(1, 1)]
    assert history(media.id, "linked") == ["Added to “Algorithms” › “Week 1”"]
    # another instructor's chapter, or nonsense, is refused before any byte is kept
    assert upload_into(ben, week1, "x.png", samples.png_bytes()).status_code == 404
    assert upload_into(ada, "12abc", "x.png", samples.png_bytes()).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile).where(MediaFile.name == "x.png")) == 0


def test_upload_into_a_chapter_deleted_meanwhile_stays_in_the_library(ada, worker, samples):
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    assert upload_into(ada, week1, "late.png", samples.png_bytes()).status_code == 201
    ada.post(f"/chapters/{week1}/delete")
    worker()
    media = db.session.scalar(sa.select(MediaFile).where(MediaFile.name == "late.png"))
    assert media.status == "ready" and usage(media.id) == [(0, 0)]


def test_resumable_upload_into_a_chapter(ada, ben, worker, samples):
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    content = samples.png_bytes()
    encode = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    header = f"filename {encode('big.png')},filetype {encode('image/png')},chapter {encode(str(week1))}"
    tus = {"Tus-Resumable": "1.0.0", "Upload-Length": str(len(content)), "Upload-Metadata": header}
    refused = ben.client.post("/uploads/", headers=ben.headers(htmx=False, **tus))
    assert refused.status_code == 404
    created = ada.client.post("/uploads/", headers=ada.headers(htmx=False, **tus))
    assert created.status_code == 201
    location = created.headers["Location"]
    sent = ada.client.patch(location, data=content, headers=ada.headers(
        htmx=False, **{"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                       "Content-Type": "application/offset+octet-stream"}))
    assert sent.status_code == 204
    worker()
    media = db.session.scalar(sa.select(MediaFile).where(MediaFile.name == "big.png"))
    assert media.status == "ready" and usage(media.id) == [(1, 1)]
