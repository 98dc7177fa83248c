"""Chapter items: linking library files, reordering (whole order, up/down), moving between
chapters, renaming, removing; ordering stays unique; nobody links or touches what is not theirs."""
import re

import pytest
import sqlalchemy as sa

from factories import course_with_chapters, link, make_files
from mediamgr.courses.models import ChapterItem
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile

pytestmark = pytest.mark.both_databases  # SQL the dialects may treat differently


def items_of(chapter_id):
    db.session.expire_all()
    return [(item.title, item.position) for item in db.session.scalars(
        sa.select(ChapterItem).where(ChapterItem.chapter_id == chapter_id).order_by(ChapterItem.position))]


def item_ids(chapter_id):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ChapterItem.id).where(ChapterItem.chapter_id == chapter_id)
                                   .order_by(ChapterItem.position)))


def test_linking_appends_in_the_order_chosen_titled_by_the_files_names_without_extension(ada):
    first, second, third = make_files("ada@example.com", 3, prefix="lecture")
    _course, (chapter,) = course_with_chapters(ada, "Week 1")
    answer = link(ada, chapter, [third, first])
    assert answer.status_code == 200 and "lecture 00002.pdf" in answer.get_data(as_text=True)  # the file's name
    link(ada, chapter, [second])
    assert items_of(chapter) == [("lecture 00002", 1), ("lecture 00000", 2), ("lecture 00001", 3)]


def test_reorder_move_rename_and_remove(ada):
    files = make_files("ada@example.com", 4, prefix="clip")
    _course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, files)
    a, b, c, d = item_ids(week1)
    assert ada.post(f"/chapters/{week1}/items/order", {"item": [str(i) for i in (d, c, b, a)]}).status_code == 200
    assert [title for title, _ in items_of(week1)] == ["clip 00003", "clip 00002", "clip 00001", "clip 00000"]
    ada.post(f"/items/{a}/move", {"direction": "up"})
    assert item_ids(week1) == [d, c, a, b]
    ada.post(f"/items/{c}/move", {"direction": "chapter", "chapter": str(week2)})
    assert item_ids(week1) == [d, a, b] and item_ids(week2) == [c]
    assert [position for _, position in items_of(week1)] == [1, 2, 3]
    ada.post(f"/items/{d}/title", {"title": "  Welcome   video "})
    assert items_of(week1)[0] == ("Welcome video", 1)
    refused = ada.post(f"/items/{d}/title", {"title": "  "})
    assert refused.status_code == 422 and items_of(week1)[0][0] == "Welcome video"
    ada.post(f"/items/{a}/remove")
    assert item_ids(week1) == [d, b] and [p for _, p in items_of(week1)] == [1, 2]
    assert db.session.get(MediaFile, files[0]) is not None  # the file stays in the library


def test_a_wrong_order_or_move_is_refused(ada):
    files = make_files("ada@example.com", 2)
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, files)
    a, b = item_ids(week1)
    assert ada.post(f"/chapters/{week1}/items/order", {"item": [str(a)]}).status_code == 422
    assert ada.post(f"/items/{a}/move", {"direction": "sideways"}).status_code == 400
    assert ada.post(f"/chapters/{week1}/items", {"media": []}).status_code == 400
    assert item_ids(week1) == [a, b]


def test_nobody_links_or_touches_what_is_not_theirs(ada, ben):
    mine = make_files("ada@example.com", 1)
    bens = make_files("ben@example.com", 1)
    trashed = make_files("ada@example.com", 1, trashed=True)
    course, (chapter, other) = course_with_chapters(ada, "Week 1", "Week 2")
    assert link(ada, chapter, bens).status_code == 404
    assert link(ada, chapter, trashed).status_code == 404
    assert link(ada, chapter, [*mine, *bens]).status_code == 404
    assert items_of(chapter) == []
    link(ada, chapter, mine)
    [item] = item_ids(chapter)
    assert link(ben, chapter, bens).status_code == 404
    for url, data in ((f"/items/{item}/title", {"title": "Mine now"}), (f"/items/{item}/remove", {}),
                      (f"/items/{item}/move", {"direction": "down"}),
                      (f"/chapters/{chapter}/items/order", {"item": [str(item)]})):
        assert ben.post(url, data).status_code == 404, url
    ben_course, (ben_chapter,) = course_with_chapters(ben, "Elsewhere")
    assert ada.post(f"/items/{item}/move", {"direction": "chapter", "chapter": str(ben_chapter)}).status_code == 404
    assert item_ids(chapter) == [item] and items_of(chapter)[0][0] == "file 00000"


def test_a_linked_file_cannot_be_deleted_underneath_a_course(ada):
    [media_id] = make_files("ada@example.com", 1, trashed=True)
    db.session.execute(sa.update(MediaFile).where(MediaFile.id == media_id).values(deleted_at=None, status="ready"))
    db.session.commit()
    _course, (chapter,) = course_with_chapters(ada, "Week 1")
    link(ada, chapter, [media_id])
    db.session.execute(sa.update(MediaFile).where(MediaFile.id == media_id).values(deleted_at=sa.func.now()))
    db.session.commit()
    try:
        db.session.execute(sa.delete(MediaFile).where(MediaFile.id == media_id))
        db.session.commit()
        deleted = True
    except sa.exc.IntegrityError:
        db.session.rollback()
        deleted = False
    assert not deleted and db.session.get(MediaFile, media_id) is not None


def test_item_titles_are_escaped(ada):
    [media_id] = make_files("ada@example.com", 1)
    _course, (chapter,) = course_with_chapters(ada, "Week 1")
    link(ada, chapter, [media_id])
    [item] = item_ids(chapter)
    html = ada.post(f"/items/{item}/title", {"title": "<script>alert(1)</script>"}).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_a_used_file_in_the_trash_is_not_deleted_permanently(ada, worker):
    [media_id] = make_files("ada@example.com", 1)
    _course, (chapter,) = course_with_chapters(ada, "Week 1")
    link(ada, chapter, [media_id])
    db.session.execute(sa.update(MediaFile).where(MediaFile.id == media_id)
                       .values(deleted_at=sa.func.now(), status="deleted"))
    db.session.commit()
    single = ada.post(f"/media/{media_id}/delete")
    assert single.status_code == 409 and "used in a course" in single.get_data(as_text=True)
    ada.post("/media/bulk", {"action": "delete", "scope": "trash", "ids": [str(media_id)], "confirmed": "1"})
    worker()
    db.session.expire_all()
    assert db.session.get(MediaFile, media_id) is not None
    from mediamgr.progress.models import Operation
    operation = db.session.scalars(sa.select(Operation).where(Operation.kind == "bulk")).one()
    assert (operation.processed, operation.failed) == (1, 1)


def test_one_order_request_can_bring_an_item_over_from_another_chapter(ada, ben):
    files = make_files("ada@example.com", 4, prefix="part")
    _course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, files[:2])
    link(ada, week2, files[2:])
    a, b = item_ids(week1)
    c, d = item_ids(week2)
    answer = ada.post(f"/chapters/{week1}/items/order", {"item": [str(i) for i in (a, d, b)]})
    assert answer.status_code == 200
    assert item_ids(week1) == [a, d, b] and item_ids(week2) == [c]
    assert [p for _, p in items_of(week1)] == [1, 2, 3] and [p for _, p in items_of(week2)] == [1]
    _other, (foreign,) = course_with_chapters(ben, "Theirs")
    link(ben, foreign, make_files("ben@example.com", 1))
    [theirs] = item_ids(foreign)
    refused = ada.post(f"/chapters/{week1}/items/order", {"item": [str(i) for i in (a, d, b, theirs)]})
    assert refused.status_code == 422 and item_ids(foreign) == [theirs]


def test_move_menu_lists_the_other_chapters_for_one_item(ada, ben):
    files = make_files("ada@example.com", 1)
    _course, (week1, week2, week3) = course_with_chapters(ada, "Week 1", "Week 2", "Week 3")
    link(ada, week1, files)
    item = item_ids(week1)[0]
    editor = ada.get(f"/courses/{_course}/edit").get_data(as_text=True)
    assert "<option" not in editor  # the menu is fetched when opened, not carried by every item
    menu = ada.get(f"/items/{item}/move-menu", htmx=True).get_data(as_text=True)
    assert re.findall(r'<option value="(\d+)"', menu) == [str(week2), str(week3)]
    page = ada.get(f"/items/{item}/move-menu").get_data(as_text=True)  # "Actions" without JavaScript
    assert "Move to another chapter" in page and "Remove from chapter" in page
    assert "Move up" not in page and "Move down" not in page  # the only item of its chapter
    assert ben.get(f"/items/{item}/move-menu", htmx=True).status_code == 404


def test_hostile_titles_and_names_are_escaped_in_the_editor(ada):
    """The editor's item rows are rendered with autoescaping off for speed: the user's text in them
    (item title, file name, chapter title) must still come out escaped."""
    (media_id,) = make_files("ada@example.com", 1)
    db.session.execute(sa.update(MediaFile).where(MediaFile.id == media_id).values(name='<img src=x onerror=alert(1)>.pdf'))
    db.session.commit()
    course, (week1,) = course_with_chapters(ada, '<script>alert("chapter")</script>')
    link(ada, week1, [media_id])
    ada.post(f"/items/{item_ids(week1)[0]}/title", {"title": '"><script>alert("item")</script>'})
    for page in (ada.get(f"/courses/{course}/edit").get_data(as_text=True),
                 ada.post(f"/chapters/{week1}/items/order", {"item": [str(item_ids(week1)[0])]}).get_data(as_text=True)):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;item&#34;)" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
