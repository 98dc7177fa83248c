"""Bulk actions end to end: the request, the RQ job (a real worker against the real Redis), the rows,
each file's history, the operation's counts and the progress fragments."""
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from mediamgr.extensions import db
from mediamgr.library.models import MediaEvent, MediaFile, PendingDeletion, Tag, media_tags
from mediamgr.progress.models import Operation
from mediamgr.storage import get_storage


def operation():
    return db.session.scalars(sa.select(Operation).where(Operation.kind == "bulk").order_by(Operation.id.desc())).first()


def tag_names(media_id):
    return sorted(db.session.scalars(sa.select(Tag.name).join(media_tags, media_tags.c.tag_id == Tag.id)
                                     .where(media_tags.c.media_id == media_id)))


def events(media_id, action):
    return list(db.session.scalars(sa.select(MediaEvent).where(MediaEvent.media_id == media_id,
                                                               MediaEvent.action == action)))


def bulk(browser, action, ids=(), all_matching=False, scope="library", **fields):
    """Start a bulk action, already confirmed (tests of the confirmation are in test_bulk_feedback)."""
    data = {"action": action, "scope": scope, "confirmed": "1", **fields}
    if all_matching:
        data["all"] = "1"
    else:
        data["ids"] = [str(media_id) for media_id in ids]
    return browser.post("/media/bulk", data)


@pytest.mark.both_databases
def test_add_tags_to_ticked_files_records_history_and_search_text(ada, worker, files):
    ids = files("ada@example.com", 5)
    response = bulk(ada, "add_tags", ids[:3], tags="Exam, week 3")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert 'id="op-' in response.get_data(as_text=True) and "bulk-started" in response.headers["HX-Trigger"]
    assert operation().title == "Add tags “exam”, “week 3” to 3 files"
    worker()
    op = operation()
    assert (op.status, op.processed, op.total, op.failed) == ("succeeded", 3, 3, 0)
    for media_id in ids[:3]:
        assert tag_names(media_id) == ["exam", "week 3"]
        assert "exam week 3" in db.session.get(MediaFile, media_id).search_text
        [event] = events(media_id, "tagged")
        assert event.details["operation_id"] == op.id and event.description == "Added tag “exam”, “week 3”"
    assert tag_names(ids[3]) == [] and events(ids[3], "tagged") == []
    found = ada.get("/media/grid?q=week%203", htmx=True).get_data(as_text=True)
    assert sorted(int(i) for i in re.findall(r'data-media-id="(\d+)"', found)) == ids[:3]


@pytest.mark.both_databases
def test_select_all_matching_acts_on_the_filter_not_on_ids(ada, ben, worker, files):
    tagged = files("ada@example.com", 30, tags=["midterm"])
    others = files("ada@example.com", 10)
    bens = files("ben@example.com", 5, tags=["midterm"])
    count = ada.get("/media/bulk/count?all=1&scope=library&tag=midterm", htmx=True).get_data(as_text=True)
    assert "All 30 files matching this filter are selected" in count
    assert bulk(ada, "add_tags", all_matching=True, tag="midterm", tags="graded").status_code == 200
    worker()
    assert operation().processed == 30
    assert all(tag_names(media_id) == ["graded", "midterm"] for media_id in tagged)
    assert all(tag_names(media_id) == [] for media_id in others)
    assert all(tag_names(media_id) == ["midterm"] for media_id in bens)


@pytest.mark.both_databases
def test_remove_tags_and_set_category(ada, worker, files):
    ids = files("ada@example.com", 4, tags=["draft", "keep"])
    bulk(ada, "remove_tags", ids, tags="draft")
    bulk(ada, "set_category", ids[:2], category="  Lecture   notes ")
    worker()
    assert all(tag_names(media_id) == ["keep"] for media_id in ids)
    assert "draft" not in db.session.get(MediaFile, ids[0]).search_text
    assert [db.session.get(MediaFile, media_id).category for media_id in ids] == ["Lecture notes"] * 2 + [""] * 2
    assert [("lecture notes" in db.session.get(MediaFile, media_id).search_text) for media_id in ids] == [True] * 2 + [False] * 2
    assert events(ids[0], "updated")[0].description == "Set category to “Lecture notes”"


@pytest.mark.both_databases
def test_trash_restore_and_delete_permanently(ada, worker, files):
    ids = files("ada@example.com", 6, stored=True)
    storage = get_storage()
    bulk(ada, "trash", ids)
    worker()
    assert all(db.session.get(MediaFile, media_id).in_trash for media_id in ids)
    bulk(ada, "restore", ids[:2], scope="trash")
    worker()
    assert [db.session.get(MediaFile, media_id).in_trash for media_id in ids] == [False] * 2 + [True] * 4
    dialog = ada.post("/media/bulk/dialog", {"action": "delete", "scope": "trash", "ids": [str(i) for i in ids[2:]]})
    assert "Delete 4 files permanently" in dialog.get_data(as_text=True)
    assert "(4.0 kB in all)" in dialog.get_data(as_text=True)
    keys = [db.session.get(MediaFile, media_id).storage_key for media_id in ids]
    bulk(ada, "delete", ids[2:], scope="trash")
    worker()
    assert [db.session.get(MediaFile, media_id) is None for media_id in ids] == [False] * 2 + [True] * 4
    assert [Path(storage.path_for(key)).exists() for key in keys] == [True] * 2 + [False] * 4
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingDeletion)) == 0
    history = db.session.scalars(sa.select(MediaEvent.action).where(MediaEvent.media_name == "file 00002.pdf")
                                 .order_by(MediaEvent.id)).all()
    assert history == ["trashed", "deleted"]


def trace(media_id):
    """What a change leaves on a file: its state and its history's wording (not who or when)."""
    media = db.session.get(MediaFile, media_id)
    state = None if media is None else (media.status, media.in_trash, media.category, tag_names(media_id),
                                        media.search_text.split(" ", 2)[-1])
    history = db.session.execute(sa.select(MediaEvent.action, MediaEvent.description)
                                 .where(MediaEvent.media_id == media_id).order_by(MediaEvent.id)).all()
    return state, [tuple(line) for line in history]


@pytest.mark.both_databases
def test_a_single_file_and_a_bulk_batch_go_through_the_same_rules(ada, worker, files):
    """Each edit made to one file from its details and to another by a bulk job leaves the same trace."""
    single, batch = files("ada@example.com", 2, tags=["draft"], stored=True)
    steps = [
        (f"/media/{single}/tags", {"tags": "Week 2, exam"}, {"action": "add_tags", "tags": "Week 2, exam"}),
        (f"/media/{single}/tags/remove", {"tag": "draft"}, {"action": "remove_tags", "tags": "draft"}),
        (f"/media/{single}/details", {"description": "", "category": "  Lecture   notes "},
         {"action": "set_category", "category": "  Lecture   notes "}),
        (f"/media/{single}/trash", {}, {"action": "trash"}),
        (f"/media/{single}/restore", {}, {"action": "restore", "scope": "trash"}),
    ]
    for url, single_form, bulk_form in steps:
        assert ada.post(url, single_form).status_code == 200, url
        assert bulk(ada, bulk_form["action"], [batch], scope=bulk_form.get("scope", "library"),
                    **{key: value for key, value in bulk_form.items() if key not in ("action", "scope")}).status_code == 200
        worker()
        db.session.expire_all()
        assert trace(single)[0] == trace(batch)[0], url
    assert trace(single)[1] == trace(batch)[1]
    assert [action for action, _description in trace(single)[1]] == ["tagged", "tagged", "updated", "trashed", "restored"]


@pytest.mark.both_databases
def test_a_file_that_cannot_take_the_action_fails_alone_with_its_reason(ada, worker, files):
    ids = files("ada@example.com", 3)
    crowded = files("ada@example.com", 1, tags=[f"tag {n}" for n in range(50)], prefix="crowded")[0]
    bulk(ada, "add_tags", [*ids, crowded], tags="extra")
    worker()
    op = operation()
    assert (op.status, op.processed, op.failed) == ("succeeded", 4, 1)
    assert all("extra" in tag_names(media_id) for media_id in ids)
    listing = ada.get(f"/operations/{op.id}/failures", htmx=True).get_data(as_text=True)
    assert "crowded" in listing and "at most 50 tags" in listing
    row = ada.get(f"/operations/{op.id}", htmx=True).get_data(as_text=True)
    assert "Done: 4 of 4 files" in row and "1 skipped" in row and "Show skipped files" in row


@pytest.mark.both_databases
def test_running_an_operation_twice_changes_nothing_twice(app, ada, worker, files):
    from mediamgr.jobs.bulk import BulkRun

    ids = files("ada@example.com", 5)
    bulk(ada, "add_tags", ids, tags="once")
    op = operation()
    BulkRun(op.id, op.job_id).run()
    BulkRun(op.id, op.job_id).run()  # a finished operation is left alone
    worker()
    db.session.expire_all()
    assert all(len(events(media_id, "tagged")) == 1 for media_id in ids)
    assert operation().processed == 5


@pytest.mark.both_databases
def test_cancel_stops_before_the_next_batch(app, ada, worker, files):
    from mediamgr.jobs.bulk import BulkRun

    app.config["BULK_BATCH_SIZE"] = 2
    ids = files("ada@example.com", 7)
    bulk(ada, "trash", ids)
    op = operation()
    run = BulkRun(op.id, op.job_id)
    run._claim()
    run._select()
    assert run._next_batch() is True  # two files done
    assert ada.post(f"/operations/{op.id}/cancel").status_code == 200
    assert "cancelling" in ada.get(f"/operations/{op.id}", htmx=True).get_data(as_text=True)
    while run._next_batch():
        pass
    db.session.expire_all()
    op = operation()
    assert (op.status, op.processed, op.total) == ("cancelled", 2, 7)
    assert [db.session.get(MediaFile, media_id).in_trash for media_id in ids] == [True] * 2 + [False] * 5
    row = ada.get(f"/operations/{op.id}", htmx=True).get_data(as_text=True)
    assert "Cancelled after 2 of 7 files" in row
    assert ada.post(f"/operations/{op.id}/cancel").status_code == 409


@pytest.mark.both_databases
def test_a_failed_operation_retries_from_its_checkpoint(app, ada, worker, files):
    from mediamgr.bulk.service import mark_failed
    from mediamgr.jobs.bulk import BulkRun

    app.config["BULK_BATCH_SIZE"] = 3
    ids = files("ada@example.com", 8)
    bulk(ada, "add_tags", ids, tags="retry")
    op = operation()
    run = BulkRun(op.id, op.job_id)
    run._claim()
    run._select()
    run._next_batch()
    mark_failed(op.id, op.job_id, "Stopped by an unexpected error (OperationalError).")
    row = ada.get(f"/operations/{op.id}", htmx=True).get_data(as_text=True)
    assert "Failed after 3 of 8 files" in row and "Retry" in row
    assert ada.post(f"/operations/{op.id}/retry").status_code == 200
    worker()
    op = operation()
    assert (op.status, op.processed, op.failed) == ("succeeded", 8, 0)
    assert all(len(events(media_id, "tagged")) == 1 for media_id in ids)


@pytest.mark.both_databases
def test_other_users_files_and_operations_are_out_of_reach(ada, ben, worker, files):
    bens = files("ben@example.com", 3)
    response = bulk(ada, "trash", bens)
    assert response.status_code == 409 and "nothing was changed" in response.get_data(as_text=True)
    worker()
    assert not any(db.session.get(MediaFile, media_id).in_trash for media_id in bens)
    mine = files("ada@example.com", 2)
    bulk(ada, "trash", [*mine, *bens])
    worker()
    op = operation()
    assert op.total == 2 and not any(db.session.get(MediaFile, media_id).in_trash for media_id in bens)
    assert ben.get(f"/operations/{op.id}").status_code == 404
    assert ben.get(f"/operations/{op.id}/failures").status_code == 404
    assert ben.post(f"/operations/{op.id}/cancel").status_code == 404
    assert ben.post(f"/operations/{op.id}/retry").status_code == 404


@pytest.mark.both_databases
def test_admin_acts_on_every_users_files(admin, worker, files, users):
    ada_ids = files("ada@example.com", 2)
    ben_ids = files("ben@example.com", 2)
    bulk(admin, "add_tags", [*ada_ids, *ben_ids], tags="audited")
    worker()
    assert all(tag_names(media_id) == ["audited"] for media_id in [*ada_ids, *ben_ids])
    owners = db.session.execute(sa.select(Tag.owner_id).where(Tag.name == "audited")).scalars().all()
    assert len(set(owners)) == 2  # each owner gets a tag of their own


@pytest.mark.parametrize("data, status, message", [
    ({"action": "explode", "ids": ["1"]}, 400, "Choose one of the bulk actions"),
    ({"action": "trash"}, 400, "Select at least one file first"),
    ({"action": "trash", "ids": ["1; DROP TABLE"]}, 400, "not a file"),
    ({"action": "restore", "ids": ["1"]}, 400, "not available here"),
    ({"action": "add_tags", "ids": ["1"], "tags": " , "}, 400, "Type at least one tag"),
    ({"action": "set_category", "ids": ["1"], "category": "x" * 65}, 400, "at most 64 characters"),
    ({"action": "trash", "scope": "elsewhere", "ids": ["1"]}, 400, "Unknown selection scope"),
])
def test_bad_requests_say_what_is_wrong(ada, data, status, message):
    response = ada.post("/media/bulk", {"scope": "library", **data})
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Operation)) == 0


def test_without_csrf_token_nothing_starts(ada, files):
    ids = files("ada@example.com", 1)
    response = ada.client.post("/media/bulk", data={"action": "trash", "scope": "library", "ids": [str(ids[0])]},
                               headers={"HX-Request": "true"})
    assert response.status_code == 400 and "security token" in response.get_data(as_text=True).lower()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Operation)) == 0


def test_tag_names_with_markup_are_escaped_everywhere(ada, worker, files):
    ids = files("ada@example.com", 1)
    bulk(ada, "add_tags", ids, tags="<script>alert(1)</script>")
    worker()
    op = operation()
    for url in (f"/operations/{op.id}", "/media/grid"):
        html = ada.get(url, htmx=True).get_data(as_text=True)
        assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_redis_down_keeps_browsing_and_refuses_bulk_work(tmp_path, sqlite_template, redis_url):
    import shutil

    from factories import make_files
    from helpers import Browser, base_config
    from mediamgr import create_app
    from mediamgr.cli import ensure_user

    shutil.copyfile(sqlite_template, tmp_path / "db.sqlite3")
    app = create_app({**base_config(tmp_path, redis_url, f"sqlite:///{tmp_path / 'db.sqlite3'}"),
                      "REDIS_URL": "redis://127.0.0.1:1/0"})
    with app.app_context():
        ensure_user("ada@example.com", "correct-horse-battery", "Ada", "instructor")
        ids = make_files("ada@example.com", 3)
        ada = Browser(app).login("ada@example.com")
        response = ada.post("/media/bulk", {"action": "trash", "scope": "library", "ids": [str(i) for i in ids]})
        assert response.status_code == 503 and "nothing was changed" in response.get_data(as_text=True)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Operation)) == 0
        assert not any(db.session.get(MediaFile, media_id).in_trash for media_id in ids)
        assert ada.get("/media").status_code == 200 and ada.get("/media/grid?q=file", htmx=True).status_code == 200
        assert ada.get(f"/media/{ids[0]}").status_code == 200
        db.session.remove()
