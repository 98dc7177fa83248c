"""What a bulk action tells the user: a trash or a new category for more than a handful of files asks
first (with the count and the size), a finished bulk trash offers Undo (a restore of exactly the
files it trashed), and an operation that changed nothing says so instead of "Done"."""
import re

import pytest
import sqlalchemy as sa

from factories import course_with_chapters, link
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.progress.models import Operation

pytestmark = pytest.mark.both_databases


def operations():
    return db.session.scalars(sa.select(Operation).where(Operation.kind == "bulk").order_by(Operation.id)).all()


def ids_form(ids, **fields):
    return {"scope": "library", "ids": [str(media_id) for media_id in ids], **fields}


def row_of(browser, operation):
    return browser.get(f"/operations/{operation.id}", htmx=True).get_data(as_text=True)


def test_trashing_more_than_a_handful_asks_first_with_count_and_size(ada, files, worker):
    few, many = files("ada@example.com", 3), files("ada@example.com", 6)
    assert ada.post("/media/bulk", ids_form(few, action="trash")).headers["HX-Trigger"].count("bulk-started") == 1
    asked = ada.post("/media/bulk", ids_form(many, action="trash"))
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and asked.headers["HX-Retarget"] == "#dialog-root"
    assert "Move 6 files to the trash?" in body and "6.0 kB in all" in body
    assert 'name="confirmed" value="1"' in body
    assert len(operations()) == 1  # nothing started for the six yet
    assert ada.post("/media/bulk", ids_form(many, action="trash", confirmed="1")).status_code == 200
    worker()
    assert len(operations()) == 2 and all(db.session.get(MediaFile, media_id).in_trash for media_id in many)


def test_a_new_category_for_many_files_says_how_many_before_it_changes_them(ada, files):
    many = files("ada@example.com", 7)
    dialog = ada.post("/media/bulk/dialog", ids_form(many, action="set_category")).get_data(as_text=True)
    assert "7 files" in dialog and "kB in all" in dialog and 'name="confirmed" value="1"' in dialog
    unconfirmed = ada.post("/media/bulk", ids_form(many, action="set_category", category="Exams"))
    assert "HX-Retarget" in unconfirmed.headers and not operations()
    assert ada.post("/media/bulk", ids_form(many, action="set_category", category="Exams", confirmed="1")).status_code == 200
    assert len(operations()) == 1


def test_without_javascript_the_confirmation_is_a_page(ada, files):
    many = files("ada@example.com", 6)
    page = ada.post("/media/bulk", ids_form(many, action="trash"), htmx=False)
    assert page.status_code == 200 and "Move 6 files to the trash?" in page.get_data(as_text=True)
    assert "<!doctype html>" in page.get_data(as_text=True).lower() and not operations()


def test_a_finished_bulk_trash_offers_undo_which_restores_exactly_those_files(ada, files, worker):
    earlier = files("ada@example.com", 2)
    ada.post("/media/bulk", ids_form(earlier, action="trash"))
    worker()
    chosen = files("ada@example.com", 8)
    _course, (chapter,) = course_with_chapters(ada, "Week 1")
    link(ada, chapter, chosen[:2])  # used: the trash skips them
    ada.post("/media/bulk", ids_form(chosen, action="trash", confirmed="1"))
    worker()
    trash_op = operations()[-1]
    row = row_of(ada, trash_op)
    assert "Done: 8 of 8 files" in row and "2 skipped" in row and "Undo" in row
    undone = ada.post(f"/operations/{trash_op.id}/undo")
    assert undone.status_code == 200, undone.get_data(as_text=True)
    restore_op = operations()[-1]
    assert restore_op.details["action"] == "restore" and restore_op.total == 6
    assert restore_op.title == "Restore 6 files from the trash"
    worker()
    db.session.expire_all()
    assert not any(db.session.get(MediaFile, media_id).in_trash for media_id in chosen)
    assert all(db.session.get(MediaFile, media_id).in_trash for media_id in earlier)  # not part of that trash
    assert "Undo" not in row_of(ada, trash_op)  # undone once; the restore's own row says what happened
    assert ada.post(f"/operations/{trash_op.id}/undo").status_code == 409


def test_undo_is_only_for_a_finished_trash_of_ones_own(ada, ben, files, worker):
    ids = files("ada@example.com", 3)
    ada.post("/media/bulk", ids_form(ids, action="add_tags", tags="x"))
    worker()
    tag_op = operations()[-1]
    assert ada.post(f"/operations/{tag_op.id}/undo").status_code == 409
    ada.post("/media/bulk", ids_form(ids, action="trash"))
    worker()
    assert ben.post(f"/operations/{operations()[-1].id}/undo").status_code == 404


def test_when_every_file_was_skipped_the_row_says_nothing_changed(ada, files, worker):
    used = files("ada@example.com", 2)
    _course, (chapter,) = course_with_chapters(ada, "Week 1")
    link(ada, chapter, used)
    ada.post("/media/bulk", ids_form(used, action="trash"))
    worker()
    row = row_of(ada, operations()[-1])
    assert "Nothing changed: 2 skipped" in row and "Done:" not in row
    assert re.search(r'class="operation op-unchanged', row) and "op-succeeded" not in row
    assert "Show skipped files" in row and "Undo" not in row
