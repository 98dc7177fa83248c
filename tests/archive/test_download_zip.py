"""Download a selection as a zip: a small selection streams at once, with the files' display names made
unique and safe and each file's bytes from storage; a large one is written by a worker and offered
from the Activity panel until it expires. Only the user's own files (an admin's: anyone's), never the
trash, never a file still processing."""
import io
import re
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediamgr.archive import service as archive_service
from mediamgr.archive.service import unique_names
from mediamgr.extensions import db
from mediamgr.jobs.prepared import remove_expired_downloads
from mediamgr.jobs.queues import BackgroundUnavailable
from mediamgr.library.models import MediaFile
from mediamgr.progress.models import Operation
from mediamgr.storage import get_storage
from mediamgr.timeutil import utcnow

from factories import stored_files


def download(browser, data):
    """The form the page submits for a small selection (after the htmx request that decided so)."""
    return browser.post("/media/download", data, htmx=False, buffered=True)


def zip_of(answer):
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.mimetype == "application/zip" and "attachment" in answer.headers["Content-Disposition"]
    assert int(answer.headers["Content-Length"]) == len(answer.get_data())
    archive = zipfile.ZipFile(io.BytesIO(answer.get_data()))
    assert archive.testzip() is None  # every CRC checks out
    return {info.filename: archive.read(info) for info in archive.infolist()}, archive


@pytest.mark.both_databases
def test_a_small_selection_streams_with_unique_safe_names(ada, ben):
    ids = stored_files("ada@example.com", {"notes.pdf": b"first notes", "Notes.pdf": b"second notes",
                                           "week 1/2 slides.pdf": b"slides", "..\\..\\boot.ini": b"sneaky",
                                           "notes (2).pdf": b"a real second", "Q&A — über.pdf": b"unicode"})
    trashed = stored_files("ada@example.com", {"old.pdf": b"old"}, trashed=True)
    bens = stored_files("ben@example.com", {"bens.pdf": b"not ada's"})
    picked = {"scope": "library", "ids": [str(i) for i in ids + trashed + bens]}
    asked = ada.post("/media/download", picked)  # the selection bar's button (htmx)
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert "data-download-now" in page and "Downloading 6 files" in page
    assert sorted(re.findall(r'name="ids" value="(\d+)"', page)) == sorted(picked["ids"])  # the same selection
    files, archive = zip_of(download(ada, picked))
    assert files == {"notes.pdf": b"first notes", "Notes (2).pdf": b"second notes",
                     "week 1\u22152 slides.pdf": b"slides", "\u29f5.\u29f5boot.ini": b"sneaky",
                     "notes (2) (2).pdf": b"a real second", "Q&A — über.pdf": b"unicode"}
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())  # media is compressed already
    for name in files:
        assert "/" not in name and "\\" not in name and ".." not in name


def test_names_inside_the_zip_keep_no_path():
    names = unique_names(["notes.pdf", "notes.pdf", "NOTES.PDF", "../../etc/passwd", "..", ".hidden", "a..b.pdf",
                          "C:\\Windows\\x.dll", ""])
    assert names[:3] == ["notes.pdf", "notes (2).pdf", "NOTES (3).PDF"]
    assert len({name.casefold() for name in names}) == len(names)
    for name in names:
        assert name and "/" not in name and "\\" not in name and ".." not in name and not name.startswith(".")


@pytest.mark.both_databases
def test_select_all_matching_zips_what_the_filter_lists(ada):
    stored_files("ada@example.com", {"lecture 1.pdf": b"1", "lecture 2.pdf": b"2", "quiz.pdf": b"q"})
    stored_files("ada@example.com", {"lecture old.pdf": b"o"}, trashed=True)
    files, _archive = zip_of(download(ada, {"scope": "library", "all": "1", "q": "lecture"}))
    assert set(files) == {"lecture 1.pdf", "lecture 2.pdf"}


def test_an_admin_may_zip_anyones_files(admin, ada):
    ids = stored_files("ada@example.com", {"ada's talk.pdf": b"talk"})
    files, _archive = zip_of(download(admin, {"scope": "library", "ids": [str(ids[0])]}))
    assert files == {"ada's talk.pdf": b"talk"}


def test_nothing_to_download_says_why(ada, ben):
    processing = stored_files("ada@example.com", {"still going.pdf": b"x"})
    db.session.execute(sa.update(MediaFile).where(MediaFile.id == processing[0]).values(ready_at=None, status="processing"))
    db.session.commit()
    bens = stored_files("ben@example.com", {"bens.pdf": b"b"})
    for data in ({"scope": "library", "ids": [str(processing[0])]}, {"scope": "library", "ids": [str(bens[0])]}):
        answer = ada.post("/media/download", data)
        assert answer.status_code == 409 and "None of the selected files can be downloaded" in answer.get_data(as_text=True)
    ready = stored_files("ada@example.com", {"done.pdf": b"d"})
    partly = ada.post("/media/download", {"scope": "library", "ids": [str(processing[0]), str(ready[0])]})
    assert "Downloading 1 file (1 byte) as a zip. 1 file still being processed is left out." in partly.get_data(as_text=True)
    assert ada.post("/media/download", {"scope": "library"}).status_code == 400  # nothing selected
    trash = ada.post("/media/download", {"scope": "trash", "ids": [str(processing[0])]})
    assert trash.status_code == 400 and "restore them first" in trash.get_data(as_text=True)
    assert ada.post("/media/download", {"scope": "library", "ids": ["x"]}).status_code == 400


def test_storage_that_cannot_read_the_first_file_answers_503(ada):
    ids = stored_files("ada@example.com", {"gone.pdf": b"gone"})
    get_storage().delete_many([db.session.get(MediaFile, ids[0]).storage_key])  # the stored object is missing
    answer = download(ada, {"scope": "library", "ids": [str(ids[0])]})
    assert answer.status_code == 503 and "could not be read from storage" in answer.get_data(as_text=True)


@pytest.mark.both_databases
def test_a_large_selection_is_prepared_in_the_background_and_expires(ada, ben, app, worker):
    app.config["ARCHIVE_STREAM_MAX_FILES"] = 2
    ids = stored_files("ada@example.com", {"a.pdf": b"aaa", "b.pdf": b"bbb", "b.PDF": b"BBB"})
    started = ada.post("/media/download", {"scope": "library", "ids": [str(i) for i in ids]})
    assert started.status_code == 200 and started.headers["HX-Reswap"] == "none"
    assert "bulk-started" in started.headers["HX-Trigger"] and "Zip of 3 files" in started.get_data(as_text=True)
    worker()
    operation = db.session.scalars(sa.select(Operation).where(Operation.kind == "archive")).one()
    assert operation.status == "succeeded" and operation.processed == 3, operation.error
    row = ada.get(f"/operations/{operation.id}").get_data(as_text=True)
    assert "Ready to download until" in row and f'href="/media/download/{operation.id}"' in row
    offered = ada.client.get(f"/media/download/{operation.id}")
    assert offered.status_code == 302
    served = ada.client.get(offered.headers["Location"], buffered=True)
    archive = zipfile.ZipFile(io.BytesIO(served.get_data()))
    assert {info.filename: archive.read(info) for info in archive.infolist()} == {
        "a.pdf": b"aaa", "b.pdf": b"bbb", "b (2).PDF": b"BBB"}
    assert ben.client.get(f"/media/download/{operation.id}").status_code == 404  # not Ben's
    db.session.execute(sa.update(Operation).where(Operation.id == operation.id).values(
        details={**operation.details, "expires_at": (utcnow() - timedelta(minutes=1)).isoformat(timespec="seconds")}))
    db.session.commit()
    assert ada.client.get(f"/media/download/{operation.id}").status_code == 410
    assert remove_expired_downloads() == 1  # the maintenance round's task, exports and zips alike
    assert ada.client.get(f"/media/download/{operation.id}").status_code == 404


def test_a_background_zip_of_files_gone_meanwhile_fails_with_a_reason(ada, app, worker):
    app.config["ARCHIVE_STREAM_MAX_FILES"] = 1
    ids = stored_files("ada@example.com", {"a.pdf": b"a", "b.pdf": b"b"})
    ada.post("/media/download", {"scope": "library", "ids": [str(i) for i in ids]})
    for media_id in ids:
        ada.post(f"/media/{media_id}/trash")
    worker()
    operation = db.session.scalars(sa.select(Operation).where(Operation.kind == "archive")).one()
    assert operation.status == "failed" and "nothing to zip" in operation.error


def test_a_large_selection_when_background_work_is_down_keeps_nothing_and_says_so(ada, app, monkeypatch):
    def unavailable(_operation):
        raise BackgroundUnavailable("The zip could not be started: background work is unavailable right now.")

    monkeypatch.setattr(archive_service, "enqueue_archive", unavailable)
    app.config["ARCHIVE_STREAM_MAX_FILES"] = 1
    ids = stored_files("ada@example.com", {"a.pdf": b"a", "b.pdf": b"b"})
    answer = ada.post("/media/download", {"scope": "library", "ids": [str(i) for i in ids]})
    assert answer.status_code == 503 and "background work is unavailable" in answer.get_data(as_text=True)
    assert not db.session.scalars(sa.select(Operation).where(Operation.kind == "archive")).all()
