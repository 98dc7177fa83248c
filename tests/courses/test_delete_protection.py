"""Delete protection: a file a course uses does not go to the trash, alone or in bulk, without the
user seeing where it is used; "Remove from courses and move to trash" keeps the links it removed,
and restoring the file can put them back where they were."""
import re

import pytest
import sqlalchemy as sa

from factories import make_files
from mediamgr.courses.models import ChapterItem, RemovedLink
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.progress.models import Operation, OperationItem

from test_chapter_items import course_with_chapters, item_ids, items_of, link
from test_usage import history, usage

pytestmark = pytest.mark.both_databases  # SQL the dialects may treat differently


def media(media_id):
    db.session.expire_all()
    return db.session.get(MediaFile, media_id)


def chapter_files(chapter_id):
    db.session.expire_all()
    return list(db.session.scalars(sa.select(ChapterItem.media_id).where(ChapterItem.chapter_id == chapter_id)
                                   .order_by(ChapterItem.position)))


def test_trashing_a_used_file_is_refused_with_where_it_is_used(ada):
    a, b = make_files("ada@example.com", 2)
    course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, [b, a])
    link(ada, week2, [a])
    answer = ada.post(f"/media/{a}/trash")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["HX-Retarget"] == "#dialog-root"
    assert "is used in 2 places" in body and "Week 1" in body and "Week 2" in body and "item 2" in body
    assert f'/courses/{course}/edit#item-' in body and "Remove from courses and move to trash" in body
    assert not media(a).in_trash and usage(a) == [(2, 2)]
    # without JavaScript: back to the details page, with the reason
    plain = ada.post(f"/media/{a}/trash", htmx=False)
    assert plain.status_code == 302 and plain.headers["Location"].endswith(f"/media/{a}")
    assert "was not moved to the trash. Used in “Algorithms” › “Week 1”; “Algorithms” › “Week 2”." in \
        ada.get(f"/media/{a}").get_data(as_text=True)
    # an unused file goes as before
    assert ada.post(f"/media/{make_files('ada@example.com', 1)[0]}/trash").headers.get("HX-Retarget") is None


def test_removing_it_from_each_place_in_the_dialog_then_trashing(ada):
    (a,) = make_files("ada@example.com", 1)
    _course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, [a])
    link(ada, week2, [a])
    first = item_ids(week1)[0]
    answer = ada.post(f"/items/{first}/unlink?then=in-use")
    assert "is used in 1 place" in answer.get_data(as_text=True)
    answer = ada.post(f"/items/{item_ids(week2)[0]}/unlink?then=in-use")
    assert "is no longer used" in answer.get_data(as_text=True)
    assert ada.post(f"/media/{a}/trash").headers.get("HX-Retarget") is None and media(a).in_trash


def test_forced_trash_records_the_links_and_restore_puts_them_back(ada):
    a, b, c, d = make_files("ada@example.com", 4)
    _course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, [b, a, c])
    link(ada, week2, [d, a])
    answer = ada.post(f"/media/{a}/trash", {"unlink": "1"})
    body = answer.get_data(as_text=True)
    assert "removed from 2 places in courses and moved to trash" in body and "links=1" in body  # Undo brings them back
    assert media(a).in_trash and usage(a) == [(0, 0)]
    assert chapter_files(week1) == [b, c] and [p for _t, p in items_of(week1)] == [1, 2]
    assert history(a, "unlinked") == ["Removed from “Algorithms” › “Week 1” (moved to trash)",
                                      "Removed from “Algorithms” › “Week 2” (moved to trash)"]
    trash_page = ada.get("/media/trash").get_data(as_text=True)
    assert "put it back into 2 chapters" in trash_page
    details = ada.get(f"/media/{a}", htmx=True).get_data(as_text=True)
    assert "Restore course links too" in details and "Before it was moved to the trash it was in" in details
    restored = ada.post(f"/media/{a}/restore", {"links": "1"})
    assert "Put back into 2 chapters." in restored.get_data(as_text=True)
    assert chapter_files(week1) == [b, a, c] and chapter_files(week2) == [d, a]
    assert usage(a) == [(2, 2)] and not media(a).in_trash
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RemovedLink)) == 0


def test_restore_goes_to_the_end_when_the_chapter_shrank_and_skips_a_deleted_chapter(ada):
    a, b, c = make_files("ada@example.com", 3)
    _course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, week1, [b, c, a])
    link(ada, week2, [a])
    ada.post(f"/media/{a}/trash", {"unlink": "1"})
    ada.post(f"/items/{item_ids(week1)[0]}/remove")  # week 1 holds only c now; a was at 3
    ada.post(f"/chapters/{week2}/delete")
    answer = ada.post(f"/media/{a}/restore", {"links": "1"}).get_data(as_text=True)
    assert "Put back into 1 chapter." in answer and "1 link could not come back: the chapter was deleted." in answer
    assert chapter_files(week1) == [c, a] and usage(a) == [(1, 1)]


def test_restore_without_links_forgets_them(ada):
    (a,) = make_files("ada@example.com", 1)
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, [a])
    ada.post(f"/media/{a}/trash", {"unlink": "1"})
    ada.post(f"/media/{a}/restore")
    assert chapter_files(week1) == [] and usage(a) == [(0, 0)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RemovedLink)) == 0


def test_another_users_item_or_file_answers_404(ada, ben):
    (a,) = make_files("ada@example.com", 1)
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, [a])
    item = item_ids(week1)[0]
    assert ben.post(f"/items/{item}/unlink").status_code == 404
    assert ben.post(f"/media/{a}/trash", {"unlink": "1"}).status_code == 404
    assert ben.post(f"/media/{a}/restore", {"links": "1"}).status_code == 404
    assert usage(a) == [(1, 1)] and not media(a).in_trash


def bulk(browser, action, ids, scope="library", **fields):
    return browser.post("/media/bulk", {"action": action, "scope": scope, "ids": [str(i) for i in ids], **fields})


def test_bulk_trash_skips_used_files_each_with_where_it_is_used(ada, worker):
    files = make_files("ada@example.com", 5)
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, files[:2])
    assert bulk(ada, "trash", files).status_code == 200
    worker()
    operation = db.session.scalars(sa.select(Operation).where(Operation.kind == "bulk")).one()
    assert (operation.status, operation.processed, operation.failed) == ("succeeded", 5, 2)
    reasons = dict(db.session.execute(sa.select(OperationItem.media_id, OperationItem.error)
                                      .where(OperationItem.operation_id == operation.id,
                                             OperationItem.error.is_not(None))).all())
    assert reasons == {files[0]: "Used in “Algorithms” › “Week 1”.", files[1]: "Used in “Algorithms” › “Week 1”."}
    assert [media(i).in_trash for i in files] == [False, False, True, True, True]
    failures = ada.get(f"/operations/{operation.id}/failures", htmx=True).get_data(as_text=True)
    assert "Used in “Algorithms” › “Week 1”." in failures


def test_bulk_restore_with_course_links(ada, worker):
    a, b = make_files("ada@example.com", 2)
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    link(ada, week1, [a, b])
    ada.post(f"/media/{a}/trash", {"unlink": "1"})
    ada.post(f"/media/{b}/trash", {"unlink": "1"})
    assert chapter_files(week1) == []
    bulk(ada, "restore", [a, b], scope="trash", links="1")
    worker()
    assert sorted(chapter_files(week1)) == sorted([a, b]) and usage(a, b) == [(1, 1), (1, 1)]
    assert history(a, "linked")[-1] == "Put back into “Algorithms” › “Week 1”"


def test_the_trash_button_and_a_link_made_at_once_leave_no_trashed_file_linked(ada):
    """Link and trash of one file race on two connections; whichever commits first wins, and the
    other sees it: the file ends up either linked and in the library, or trashed and unlinked."""
    import threading

    (a,) = make_files("ada@example.com", 1)
    _course, (week1,) = course_with_chapters(ada, "Week 1")
    barrier = threading.Barrier(2)
    answers = {}

    def run(name, call):
        barrier.wait()
        answers[name] = call().status_code

    threads = [threading.Thread(target=run, args=("link", lambda: link(ada, week1, [a]))),
               threading.Thread(target=run, args=("trash", lambda: ada.post(f"/media/{a}/trash")))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    file = media(a)
    assert usage(a)[0][0] == usage(a)[0][1]
    assert (file.in_trash and usage(a) == [(0, 0)]) or (not file.in_trash and usage(a) == [(1, 1)]), answers
    assert re.fullmatch(r"\d+", str(answers["link"]))
