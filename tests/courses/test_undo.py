"""Undo in the course editor: after removing items, deleting a chapter or a course, and moving items,
the toast's Undo puts everything back where it was, once; usage counts are right after the removal
and after the Undo; what cannot come back (a file trashed since) is said so; old snapshots go."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from factories import course_with_chapters, link, make_files
from mediamgr.courses.models import Chapter, Course, CourseUndo
from mediamgr.courses.undo import purge_expired_undos
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.timeutil import utcnow

from test_chapter_items import item_ids, items_of
from test_usage import history, usage

pytestmark = pytest.mark.both_databases


def undo_url(answer):
    found = re.search(r'hx-post="(/courses/undo/\d+)"', answer.get_data(as_text=True))
    assert found, answer.get_data(as_text=True)
    return found.group(1)


def chapter_titles(course_id):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Chapter.title).where(Chapter.course_id == course_id).order_by(Chapter.position)))


def test_removing_an_item_offers_undo_which_puts_it_back_in_its_place(ada):
    files = make_files("ada@example.com", 3, prefix="clip")
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, files)
    a, b, c = item_ids(week1)
    ada.post(f"/items/{b}/title", {"title": "The middle one"})
    answer = ada.post(f"/items/{b}/remove")
    assert answer.status_code == 200 and "Removed “The middle one” from “Week 1”." in answer.get_data(as_text=True)
    assert item_ids(week1) == [a, c] and usage(files[1]) == [(0, 0)]
    undone = ada.post(undo_url(answer))
    assert undone.status_code == 200
    assert "Put back 1 item." in undone.get_data(as_text=True)
    assert items_of(week1) == [("clip 00000", 1), ("The middle one", 2), ("clip 00002", 3)]
    assert usage(*files) == [(1, 1)] * 3
    assert history(files[1], "linked")[-1] == "Put back into “Algorithms” › “Week 1”"
    assert ada.post(undo_url(answer)).status_code == 404  # once
    later = ada.post(f"/items/{c}/remove")
    assert undo_url(later) != undo_url(answer)  # an old toast's Undo never undoes a later edit
    assert ada.post(undo_url(answer)).status_code == 404 and len(item_ids(week1)) == 2


def test_undo_on_the_editor_answers_with_the_chapters_again(ada):
    files = make_files("ada@example.com", 1)
    course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, files)
    answer = ada.post(f"/items/{item_ids(week1)[0]}/remove")
    text = ada.post(undo_url(answer)).get_data(as_text=True)
    assert 'id="chapters"' in text and 'hx-swap-oob="true"' in text and 'value="file 00000"' in text


def test_removing_several_items_is_one_request_and_one_undo(ada):
    files = make_files("ada@example.com", 4, prefix="clip")
    course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, files[:3])
    link(ada, week2, files[3:])
    a, b, c = item_ids(week1)
    [d] = item_ids(week2)
    answer = ada.post(f"/courses/{course}/items/remove", {"item": [str(a), str(c), str(d)]})
    assert answer.status_code == 200 and "Removed 3 items." in answer.get_data(as_text=True)
    assert item_ids(week1) == [b] and item_ids(week2) == [] and usage(*files) == [(0, 0), (1, 1), (0, 0), (0, 0)]
    ada.post(undo_url(answer))
    assert [title for title, _ in items_of(week1)] == ["clip 00000", "clip 00001", "clip 00002"]
    assert [position for _, position in items_of(week1)] == [1, 2, 3]
    assert [title for title, _ in items_of(week2)] == ["clip 00003"] and usage(*files) == [(1, 1)] * 4


def test_deleting_a_chapter_offers_undo_which_brings_it_back_with_its_items(ada):
    files = make_files("ada@example.com", 2)
    course, (intro, week1, review) = course_with_chapters(ada, "Intro", "Week 1", "Review")
    link(ada, week1, files)
    answer = ada.post(f"/chapters/{week1}/delete")
    assert "Chapter “Week 1” deleted." in answer.get_data(as_text=True)
    assert chapter_titles(course) == ["Intro", "Review"] and usage(*files) == [(0, 0), (0, 0)]
    ada.post(f"/chapters/{review}/title", {"title": "Wrap-up"})  # edits since do not stand in the way
    assert "Put back 2 items in 1 chapter." in ada.post(undo_url(answer)).get_data(as_text=True)
    assert chapter_titles(course) == ["Intro", "Week 1", "Wrap-up"]
    back = db.session.scalar(sa.select(Chapter.id).where(Chapter.course_id == course, Chapter.title == "Week 1"))
    assert [title for title, _ in items_of(back)] == ["file 00000", "file 00001"] and usage(*files) == [(1, 1)] * 2


def test_deleting_a_course_offers_undo_on_the_courses_page(ada, ben):
    files = make_files("ada@example.com", 2)
    course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, files[:1])
    link(ada, week2, files)
    answer = ada.post(f"/courses/{course}/delete")
    assert answer.status_code == 204 and "undone=" in answer.headers["HX-Redirect"]
    page = ada.get(answer.headers["HX-Redirect"]).get_data(as_text=True)
    assert "Course “Algorithms” deleted." in page and usage(*files) == [(0, 0), (0, 0)]
    url = re.search(r'hx-post="(/courses/undo/\d+)"', page).group(1)
    assert "/courses/undo/" not in ben.get(answer.headers["HX-Redirect"]).get_data(as_text=True)
    assert ben.post(url).status_code == 404
    undone = ada.post(url)
    assert undone.status_code == 204
    restored = int(re.search(r"/courses/(\d+)/edit", undone.headers["HX-Redirect"]).group(1))
    assert db.session.get(Course, restored).title == "Algorithms" and chapter_titles(restored) == ["Week 1", "Week 2"]
    assert usage(*files) == [(2, 2), (1, 1)]


def test_what_cannot_come_back_is_said_so(ada):
    files = make_files("ada@example.com", 2)
    course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, files)
    answer = ada.post(f"/courses/{course}/items/remove", {"item": [str(i) for i in item_ids(week1)]})
    assert ada.post(f"/media/{files[0]}/trash").status_code == 200
    text = ada.post(undo_url(answer)).get_data(as_text=True)
    assert "Put back 1 item." in text and "1 item could not come back" in text
    assert [title for title, _ in items_of(week1)] == ["file 00001"] and usage(*files) == [(0, 0), (1, 1)]


def test_moving_several_items_to_a_chapter_and_undo(ada):
    files = make_files("ada@example.com", 4, prefix="clip")
    course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, files[:3])
    link(ada, week2, files[3:])
    a, b, c = item_ids(week1)
    [d] = item_ids(week2)
    answer = ada.post(f"/courses/{course}/items/move", {"item": [str(c), str(a), str(d)], "chapter": str(week2)})
    assert answer.status_code == 200 and "Moved 2 items to “Week 2”." in answer.get_data(as_text=True)
    assert item_ids(week1) == [b] and item_ids(week2) == [d, a, c]  # in course order; d was there already
    ada.post(undo_url(answer))
    assert item_ids(week1) == [a, b, c] and item_ids(week2) == [d]
    assert [position for _, position in items_of(week2)] == [1] and usage(*files) == [(1, 1)] * 4


def test_old_snapshots_are_purged_and_cannot_be_undone(ada):
    files = make_files("ada@example.com", 1)
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, files)
    answer = ada.post(f"/items/{item_ids(week1)[0]}/remove")
    db.session.execute(sa.update(CourseUndo).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    assert ada.post(undo_url(answer)).status_code == 404
    assert purge_expired_undos() == 1 and db.session.scalar(sa.select(sa.func.count()).select_from(CourseUndo)) == 0


def test_a_file_trashed_with_its_links_and_restored_keeps_counts(ada):
    """Undo of a removal and the library's trash-with-links meet on the same file: counts stay true."""
    files = make_files("ada@example.com", 1)
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, files)
    link(ada, week1, files)
    answer = ada.post(f"/items/{item_ids(week1)[0]}/remove")
    ada.post(undo_url(answer))
    assert usage(files[0]) == [(2, 2)]
    assert db.session.get(MediaFile, files[0]).unlinked_at is None
