"""A bulk action acts on exactly what the grid shows: for every combination of search, type, tag,
course, usage and sort (and the trash), the files "Select all matching" selects, counts and hands to
the job are the files the grid lists page after page."""
import itertools
import re
from urllib.parse import unquote_plus

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from mediamgr.auth.models import User
from mediamgr.bulk.selection import Selection
from mediamgr.courses.models import Chapter, Course
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile, Tag, media_tags
from mediamgr.library.queries import KINDS, SORTS, LibraryFilter, library_page, trash_page

from factories import make_files

pytestmark = pytest.mark.both_databases


@pytest.fixture
def library(ada, ben, files):
    """Ada's 32 files of every type, named and tagged in overlapping ways, two courses that share a
    file, a few in the trash; Ben's files and course (which Ada's filters must never reach)."""
    ids = {}
    for kind, prefix, tags in (("video", "lecture", ["week 1"]), ("video", "lecture notes", ["week 2"]),
                               ("image", "slide", ["week 1", "week 2"]), ("audio", "podcast", []),
                               ("document", "notes", ["week 2"]), ("document", "quiz", [])):
        ids[prefix] = make_files("ada@example.com", 5, tags=tags, prefix=prefix, kind=kind)
    ids["trashed"] = make_files("ada@example.com", 2, tags=["week 1"], prefix="lecture old", kind="video",
                                trashed=True)
    make_files("ben@example.com", 4, tags=["week 1"], prefix="lecture", kind="video")
    courses = {}
    for title, linked in (("Algorithms", ids["lecture"][:3] + ids["slide"][:1]),
                          ("Graphs", ids["lecture"][2:4] + ids["notes"][:1])):
        ada.post("/courses", {"title": title})
        course = db.session.scalar(sa.select(Course).where(Course.title == title))
        ada.post(f"/courses/{course.id}/chapters", {"title": "Chapter 1"})
        chapter = db.session.scalar(sa.select(Chapter).where(Chapter.course_id == course.id))
        response = ada.post(f"/chapters/{chapter.id}/items", {"media": [str(media_id) for media_id in linked]})
        assert response.status_code == 200
        courses[title] = course.id
    ben.post("/courses", {"title": "Ben's"})
    courses["Ben's"] = db.session.scalar(sa.select(Course.id).where(Course.title == "Ben's"))
    return ids, courses


def grid_ids(user, flt):
    """(every file the grid lists for `flt`, following its next-page cursors, 5 to a page; the total
    its first page says)."""
    seen, cursor, total = [], "", None
    while True:
        page = library_page(user, LibraryFilter(**{**flt.__dict__, "cursor": cursor}), page_size=5)
        total = page.total if total is None else total
        seen += [media.id for media in page.items]
        if not page.next_cursor:
            return seen, total
        cursor = page.next_cursor


def combinations(courses):
    course_values = ["", str(courses["Algorithms"]), str(courses["Graphs"]), str(courses["Ben's"]), "999999", "x"]
    return itertools.product(["", "lecture", "notes week", "zzz"], ["", *KINDS], ["", "week 1", "week 2", "nosuch"],
                             course_values, ["", "used", "unused"])


def test_select_all_matching_is_exactly_what_the_grid_lists_for_every_filter(library):
    _ids, courses = library
    ada = db.session.scalar(sa.select(User).where(User.email == "ada@example.com"))
    sorts = itertools.cycle(SORTS)
    checked = 0
    for q, kind, tag, course, usage in combinations(courses):
        args = {"q": q, "type": kind, "tag": tag, "course": course, "usage": usage, "sort": next(sorts)}
        listed, total = grid_ids(ada, LibraryFilter.from_args(args))
        assert len(listed) == len(set(listed)), f"a file listed twice for {args}"
        selection = Selection.from_form(MultiDict({**args, "all": "1", "scope": "library"}))
        acted_on = list(db.session.scalars(selection.media_ids(ada)))
        assert set(acted_on) == set(listed), args
        assert selection.count(ada) == total == len(listed), args
        checked += 1
    assert checked == 4 * 5 * 4 * 6 * 3


def test_the_trash_selection_is_the_trash_page_by_page(library):
    ids, _courses = library
    ada = db.session.scalar(sa.select(User).where(User.email == "ada@example.com"))
    seen, cursor = [], ""
    while True:
        page = trash_page(ada, cursor, page_size=1)
        seen += [media.id for media in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    selection = Selection.from_form(MultiDict({"all": "1", "scope": "trash", "q": "lecture", "course": "1"}))
    assert sorted(seen) == sorted(ids["trashed"]) == sorted(db.session.scalars(selection.media_ids(ada)))


def _grid_over_http(browser, args):
    """The ids the grid fragment lists, following its "Load more" links; and how many pages it took."""
    found, url = [], "/media/grid"
    query = dict(args)
    for pages in range(1, 100):
        response = browser.client.get(url, query_string=query, headers={"HX-Request": "true"})
        assert response.status_code == 200, (query, response.get_data(as_text=True)[:300])
        html = response.get_data(as_text=True)
        found += [int(media_id) for media_id in re.findall(r'data-media-id="(\d+)"', html)]
        more = re.search(r'class="load-more">\s*<a [^>]*hx-get="/media/grid\?([^"]+)"', html)
        if not more:
            return found, pages
        query = dict(pair.split("=", 1) for pair in more.group(1).replace("&amp;", "&").split("&"))
        query = {key: unquote_plus(value) for key, value in query.items()}
    raise AssertionError(f"the grid never ended for {args}")


def test_the_count_the_dialog_and_the_job_agree_with_the_grid(library, ada, worker, monkeypatch):
    """Through the real pages and a real worker, for a spread of the combinations."""
    from mediamgr.library import queries

    monkeypatch.setattr(queries, "PAGE_SIZE", 4)  # several pages even for a few files
    _ids, courses = library
    longest = 0
    for number, (q, kind, tag, course, usage) in enumerate(combinations(courses)):
        if number % 97:
            continue
        args = {key: value for key, value in {"q": q, "type": kind, "tag": tag, "course": course,
                                              "usage": usage}.items() if value}
        listed, pages = _grid_over_http(ada, args)
        longest = max(longest, pages)
        count = ada.client.get("/media/bulk/count", query_string={**args, "all": "1", "scope": "library"})
        assert f'data-count="{len(listed)}"' in count.get_data(as_text=True), args
        dialog = ada.post("/media/bulk/dialog", {**args, "all": "1", "scope": "library", "action": "add_tags"})
        assert dialog.status_code == 200, args
        label = f"selected-{number}"
        started = ada.post("/media/bulk", {**args, "all": "1", "scope": "library", "action": "add_tags", "tags": label})
        if not listed:
            assert started.status_code == 409, args  # nothing to act on: nothing starts
            continue
        assert started.status_code == 200, (args, started.get_data(as_text=True))
        worker()
        tagged = set(db.session.scalars(sa.select(media_tags.c.media_id).join(Tag, Tag.id == media_tags.c.tag_id)
                                        .where(Tag.name == label)))
        assert tagged == set(listed), args
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile)
                                 .where(MediaFile.search_text.contains(label))) == len(listed)
    assert longest >= 3  # the grid's pages were followed, not only its first
