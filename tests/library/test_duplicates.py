"""Duplicates: content already in the user's library is recognised by its SHA-256, on the server
whatever the client did (plain and tus uploads) and before any byte is sent (the page's check); a
duplicate's bytes are not stored a second time; "Use existing" keeps the file that was there (links
the upload's chapter to it) and "Keep both" keeps the new entry. Another user's content is never
reported."""
import base64
import json

import pytest
import sqlalchemy as sa

from factories import course_with_chapters
from mediamgr.courses.models import ChapterItem
from mediamgr.extensions import db
from mediamgr.library.models import MediaEvent, MediaFile


def newest():
    db.session.expire_all()
    return db.session.scalars(sa.select(MediaFile).order_by(MediaFile.id.desc()).limit(1)).one()


def check(browser, files):
    answer = browser.client.post("/media/duplicates/check", data=json.dumps({"files": files}),
                                 headers=browser.headers(htmx=False, **{"Content-Type": "application/json"}))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["files"]


@pytest.mark.both_databases
def test_a_second_upload_of_the_same_content_is_marked_a_duplicate(ada, worker, samples):
    content = samples.png_bytes()
    assert ada.upload("Logo.png", content).status_code == 201
    worker()
    first = newest()
    assert first.duplicate_of_id is None
    assert ada.upload("logo copy.png", content).status_code == 201
    worker()
    second = newest()
    assert (second.status, second.duplicate_of_id, second.storage_key) == ("ready", first.id, first.storage_key)
    page = ada.get(f"/media/{second.id}").get_data(as_text=True)
    assert 'class="duplicate-note"' in page and "Logo.png" in page
    assert f"/media/{second.id}/duplicate/use-existing" in page and f"/media/{second.id}/duplicate/keep" in page


def test_keep_both_keeps_the_new_entry(ada, worker, samples):
    content = samples.png_bytes()
    ada.upload("A.png", content)
    ada.upload("B.png", content)
    worker()
    second = newest()
    answer = ada.post(f"/media/{second.id}/duplicate/keep")
    assert answer.status_code == 200
    second = newest()
    assert second.duplicate_of_id is None and second.deleted_at is None
    assert 'class="duplicate-note"' not in ada.get(f"/media/{second.id}").get_data(as_text=True)


def test_use_existing_trashes_the_new_entry_and_moves_its_links_and_tags(ada, worker, samples):
    content = samples.png_bytes()
    ada.upload("Original.png", content)
    worker()
    original = newest()
    course, (week1,) = course_with_chapters(ada, "Week 1")
    answer = ada.client.post("/media/upload", data=content, headers=ada.headers(htmx=False, **{
        "X-Filename": "again.png", "Content-Type": "application/octet-stream", "X-Requested-With": "XMLHttpRequest",
        "X-Link-Chapter": str(week1)}))
    assert answer.status_code == 201
    worker()
    duplicate = newest()
    assert duplicate.duplicate_of_id == original.id and duplicate.usage_count == 1
    ada.post(f"/media/{duplicate.id}/tags", {"tags": "week 1"})

    answer = ada.post(f"/media/{duplicate.id}/duplicate/use-existing")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    db.session.expire_all()
    items = db.session.scalars(sa.select(ChapterItem).where(ChapterItem.chapter_id == week1)).all()
    assert [item.media_id for item in items] == [original.id]
    original, duplicate = db.session.get(MediaFile, original.id), db.session.get(MediaFile, duplicate.id)
    assert (original.usage_count, original.tag_names) == (1, ["week 1"])
    assert duplicate.deleted_at is not None and duplicate.usage_count == 0
    merged = db.session.scalars(sa.select(MediaEvent.description).where(MediaEvent.action == "merged")).all()
    assert sorted(merged) == ["Merged into “Original.png”", "Merged “again.png” into this file"]


@pytest.mark.both_databases
def test_the_pre_upload_check_finds_only_the_users_own_content(ada, ben, worker, samples):
    import hashlib
    mine, bens = samples.png_bytes(), samples.png_bytes(color=(1, 2, 3))
    ada.upload("Mine.png", mine)
    ben.upload("Bens.png", bens)
    worker()
    answers = check(ada, [
        {"sha256": hashlib.sha256(mine).hexdigest(), "size": len(mine), "name": "again.png"},
        {"sha256": hashlib.sha256(bens).hexdigest(), "size": len(bens), "name": "someone else's.png"},
        {"sha256": "0" * 64, "size": 5, "name": "new.png"},
    ])
    assert answers[0]["existing"]["name"] == "Mine.png" and answers[0]["existing"]["id"]
    assert answers[1]["existing"] is None  # Ben's file: "not in your library", never a leak
    assert answers[2]["existing"] is None


def test_the_pre_upload_check_refuses_bad_input(ada):
    for body in ("not json", json.dumps({"files": "x"}), json.dumps({"files": [{"sha256": "zz", "size": 1}]}),
                 json.dumps({"files": [{"sha256": "a" * 64, "size": -1}]}),
                 json.dumps({"files": [{"sha256": "a" * 64, "size": 1}] * 1001})):
        answer = ada.client.post("/media/duplicates/check", data=body,
                                 headers=ada.headers(htmx=False, **{"Content-Type": "application/json"}))
        assert answer.status_code == 400, body[:40]
    answer = ada.client.post("/media/duplicates/check", data=json.dumps({"files": []}),
                             headers={"Content-Type": "application/json"})  # no CSRF token
    assert answer.status_code in (400, 403)


def test_a_duplicate_tus_upload_is_marked_too(ada, worker, samples):
    content = samples.png_bytes()
    ada.upload("Logo.png", content)
    worker()
    first = newest()

    def encode(text):
        return base64.b64encode(text.encode()).decode()

    created = ada.client.post("/uploads/", headers=ada.headers(htmx=False, **{
        "Tus-Resumable": "1.0.0", "Upload-Length": str(len(content)),
        "Upload-Metadata": f"filename {encode('logo again.png')}"}))
    ada.client.patch(created.headers["Location"], data=content, headers=ada.headers(htmx=False, **{
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}))
    worker()
    assert newest().duplicate_of_id == first.id


def test_a_file_in_the_trash_is_not_a_duplicate_target(ada, worker, samples):
    content = samples.png_bytes()
    ada.upload("Old.png", content)
    worker()
    ada.post(f"/media/{newest().id}/trash")
    ada.upload("New.png", content)
    worker()
    assert newest().duplicate_of_id is None


def duplicates_of(email, content_count, copies):
    """`content_count` contents, each held by `copies` files of the user's (rows only)."""
    from factories import make_files
    ids = make_files(email, content_count * copies, prefix="copy")
    for index, media_id in enumerate(ids):
        sha = f"{index % content_count:064x}"
        db.session.execute(sa.update(MediaFile).where(MediaFile.id == media_id).values(sha256=sha))
    db.session.commit()
    return ids


@pytest.mark.both_databases
def test_the_duplicates_view_groups_same_content_and_merge_keeps_links_tags_and_positions(ada, ben, worker):
    a, b, c = duplicates_of("ada@example.com", 1, 3)
    duplicates_of("ben@example.com", 1, 2)  # Ben's: never on Ada's page
    course, (week1, week2) = course_with_chapters(ada, "Week 1", "Week 2")
    from factories import link, make_files
    (other,) = make_files("ada@example.com", 1, prefix="other")
    link(ada, week1, [other, b])      # b at position 2
    link(ada, week2, [c, a, b])       # a already here with two copies of it
    ada.post(f"/media/{c}/tags", {"tags": "midterm"})
    page = ada.get("/media/duplicates").get_data(as_text=True)
    assert "1 group" in page and "3 files" in page and page.count('name="keep"') == 3

    answer = ada.post("/media/duplicates/merge", {"sha256": f"{0:064x}", "keep": str(a)})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    worker()
    db.session.expire_all()
    chapter = lambda chapter_id: [(i.position, i.media_id) for i in db.session.scalars(  # noqa: E731
        sa.select(ChapterItem).where(ChapterItem.chapter_id == chapter_id).order_by(ChapterItem.position))]
    assert chapter(week1) == [(1, other), (2, a)]
    assert chapter(week2) == [(1, a)]  # it linked a (and copies of it) already: one link, not three
    kept = db.session.get(MediaFile, a)
    assert (kept.usage_count, kept.tag_names, kept.deleted_at) == (2, ["midterm"], None)
    assert all(db.session.get(MediaFile, media_id).deleted_at is not None for media_id in (b, c))
    assert "No duplicates" in ada.get("/media/duplicates").get_data(as_text=True)
    assert "1 group" in ben.get("/media/duplicates").get_data(as_text=True)


def test_merge_all_and_a_second_merge_change_nothing_twice(ada, worker):
    duplicates_of("ada@example.com", 3, 2)
    ada.post("/media/duplicates/merge", {"all": "1"})
    worker()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile).where(MediaFile.deleted_at.is_(None))) == 3
    merged = db.session.scalar(sa.select(sa.func.count()).select_from(MediaEvent).where(MediaEvent.action == "merged"))
    assert merged == 6
    answer = ada.post("/media/duplicates/merge", {"all": "1"})
    assert answer.status_code == 409
    from mediamgr.jobs.bulk import BulkRun
    from mediamgr.progress.models import Operation
    operation = db.session.scalars(sa.select(Operation).where(Operation.kind == "bulk")).one()
    BulkRun(operation.id, operation.job_id).run()  # a job that runs again after its operation finished
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaEvent).where(MediaEvent.action == "merged")) == 6


def test_merge_is_not_a_selection_bar_action(ada):
    (media_id,) = __import__("factories").make_files("ada@example.com", 1)
    answer = ada.post("/media/bulk", {"action": "merge", "scope": "library", "ids": str(media_id)})
    assert answer.status_code == 400
