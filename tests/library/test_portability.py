"""Export and import of a library: the round trip (export, import into an empty account, export again:
the same document apart from ids, owner, times and keys), validation that names record and field, a
dry run that changes nothing, one transaction (a failure half-way leaves nothing behind), stored
content copied within storage for another owner, CSV cells that cannot start a formula, the
background export of a large library, constant memory, and the command line."""
import csv
import io
import json
import tracemalloc
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediamgr.auth.models import User
from mediamgr.courses.models import ChapterItem, Course
from mediamgr.extensions import db
from mediamgr.jobs.prepared import remove_expired_downloads
from mediamgr.library import portability
from mediamgr.library.models import MediaFile, MediaVersion, PendingDeletion, Tag
from mediamgr.progress.models import Operation
from mediamgr.storage import get_storage
from mediamgr.timeutil import utcnow

from factories import course_with_chapters, link, make_files


def owner(email):
    return db.session.scalar(sa.select(User).where(User.email == email))


def exported(browser, kind="json"):
    answer = browser.client.get(f"/media/export.{kind}", buffered=True)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert "attachment" in answer.headers["Content-Disposition"]
    text = answer.get_data(as_text=True)
    return json.loads(text) if kind == "json" else text


def import_into(browser, document, action="import"):
    payload = json.dumps(document).encode() if not isinstance(document, bytes) else document
    return browser.client.post("/media/import", data={"action": action, "document": (io.BytesIO(payload), "library.json")},
                               headers=browser.headers(), content_type="multipart/form-data")


def normalised(document):
    """The document without what differs between accounts: ids (files become their index), the owner,
    times and storage keys."""
    index = {record["id"]: number for number, record in enumerate(document["files"])}
    volatile = {"id", "storage_key", "thumbnail_key", "created_at", "updated_at", "ready_at", "deleted_at", "unlinked_at",
                "current_since", "actor", "exported_at"}

    def clean(value):
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items() if key not in volatile and key != "owner"}
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value
    courses = [{**course, "chapters": [{**chapter, "items": [{**item, "file": index[item["file"]]} for item in chapter["items"]]}
                                       for chapter in course["chapters"]]} for course in document["courses"]]
    return clean({**document, "courses": courses})


@pytest.fixture
def library(ada, worker, samples):
    """Ada's library: uploads with tags, a category, a description and alt text, a replaced file (two versions),
    a file in the trash, a course with two chapters linking three files."""
    for number in range(4):
        ada.upload(f"lecture {number}.png", samples.png_bytes(color=(number * 40, 10, 10)))
    worker()
    files = db.session.scalars(sa.select(MediaFile).order_by(MediaFile.id)).all()
    ada.post(f"/media/{files[0].id}/tags", {"tags": "week 1, slides"})
    ada.post(f"/media/{files[0].id}/details", {"category": "Lectures", "description": "The first one\nwith two lines",
                                               "alt_text": "A graph of week 1's lecture times"})
    ada.client.post(f"/media/{files[1].id}/replace", data=samples.png_bytes(color=(1, 200, 3)), headers=ada.headers(
        htmx=False, **{"X-Filename": "lecture 1 v2.png", "Content-Type": "application/octet-stream",
                       "X-Requested-With": "XMLHttpRequest"}))
    worker()
    ada.post(f"/media/{files[3].id}/trash")
    _course, (first, second) = course_with_chapters(ada, "Week 1", "Week 2")
    link(ada, first, [files[0].id, files[1].id])
    link(ada, second, [files[2].id])
    return files


@pytest.mark.both_databases
def test_round_trip_into_an_empty_account(library, ada, ben):
    document = exported(ada)
    assert document["format"] == "mediamgr-library" and len(document["files"]) == 4 and len(document["courses"]) == 1
    first = document["files"][0]
    assert first["tags"] == ["slides", "week 1"] and first["category"] == "Lectures" and first["history"]
    assert first["alt_text"] == "A graph of week 1's lecture times"
    assert [v["number"] for v in document["files"][1]["versions"]] == [1, 2]
    dry = import_into(ben, document, action="check")
    assert dry.status_code == 200 and "Dry run" in dry.get_data(as_text=True)
    assert not db.session.scalars(sa.select(MediaFile).where(MediaFile.owner_id == owner("ben@example.com").id)).all()
    answer = import_into(ben, document)
    assert answer.status_code == 200 and "Imported 4 files, 1 courses and 3 links" in answer.get_data(as_text=True)
    bens = db.session.scalars(sa.select(MediaFile).where(MediaFile.owner_id == owner("ben@example.com").id)
                              .order_by(MediaFile.id)).all()
    assert [m.status for m in bens] == ["ready", "ready", "ready", "deleted"]
    storage = get_storage()
    for media in bens:  # Ben's own copies of the content, under his keys
        assert media.storage_key.startswith(f"users/{media.owner_id}/") and storage.exists(media.storage_key)
    again = exported(ben)
    assert normalised(again) == normalised(document)
    assert ben.get("/media?q=slides").get_data(as_text=True).count("data-media-id") == 1  # searchable by its tags
    assert ben.get("/media?q=two+lines").get_data(as_text=True).count("data-media-id") == 1  # and its description


@pytest.mark.both_databases
def test_a_bad_document_is_refused_by_record_and_field(library, ada, ben):
    document = exported(ada)
    document["files"][1]["tags"] = ["fine", "x" * 65]
    document["files"][2]["name"] = ""
    document["files"][0]["sha256"] = "not a hash"
    document["courses"][0]["chapters"][0]["items"][0]["file"] = 999999
    document["files"][3]["size_bytes"] = True
    document["files"][0]["alt_text"] = "x" * 251
    answer = import_into(ben, document)
    text = answer.get_data(as_text=True)
    for problem in ("files[1].tags[1]: longer than 40 characters", "files[2].name: The name can", "files[0].sha256: must be 64",
                    "courses[0].chapters[0].items[0].file: no file with id 999999", "files[3].size_bytes: must be a whole number",
                    "files[0].alt_text: Alt text can be at most 250 characters"):
        assert problem in text, problem
    assert "Nothing was imported" in text
    assert not db.session.scalars(sa.select(MediaFile).where(MediaFile.owner_id == owner("ben@example.com").id)).all()
    assert import_into(ben, b"not json").get_data(as_text=True).count("not JSON") == 1
    assert "format: must be" in import_into(ben, {"files": []}).get_data(as_text=True)
    assert "Choose a library export" in ben.client.post("/media/import", data={"action": "check"}, headers=ben.headers()).get_data(as_text=True)


@pytest.mark.both_databases
def test_an_import_that_fails_half_way_changes_nothing(library, ada, ben):
    document = exported(ada)
    missing = "users/9999/media/" + "0" * 64  # content that is not in storage
    document["files"][2]["storage_key"] = missing
    for version in document["files"][2]["versions"]:
        version["storage_key"] = missing
    answer = import_into(ben, document)
    assert "could not be copied" in answer.get_data(as_text=True)
    ben_id = owner("ben@example.com").id
    assert not db.session.scalars(sa.select(MediaFile).where(MediaFile.owner_id == ben_id)).all()
    assert not db.session.scalars(sa.select(Course).where(Course.owner_id == ben_id)).all()
    assert not db.session.scalars(sa.select(Tag).where(Tag.owner_id == ben_id)).all()
    # the copies made before the failure are noted for removal, not left in storage
    pending = set(db.session.scalars(sa.select(PendingDeletion.storage_key)))
    assert pending and all(key.startswith(f"users/{ben_id}/") for key in pending)


def test_importing_into_the_same_account_reuses_its_files(library, ada):
    document = exported(ada)
    text = import_into(ada, document, action="check").get_data(as_text=True)
    assert "0 files" in text and "4 more are in your library already" in text and "exists already" in text
    import_into(ada, document)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile)) == 4
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Course)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChapterItem)) == 6
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaVersion)) >= 2


def test_the_csv_export_is_spreadsheet_safe(ada):
    ids = make_files("ada@example.com", 3)
    for media_id, name in zip(ids, ("=HYPERLINK(\"x\")", "@SUM(1)", "plain.pdf")):
        db.session.execute(sa.update(MediaFile).where(MediaFile.id == media_id).values(name=name))
    db.session.commit()
    rows = list(csv.reader(io.StringIO(exported(ada, "csv"))))
    assert rows[0][:3] == ["id", "name", "type"] and len(rows) == 4 and "alt text" in rows[0]
    assert [row[1] for row in rows[1:]] == ["'=HYPERLINK(\"x\")", "'@SUM(1)", "plain.pdf"]


def test_a_large_export_runs_in_the_background_with_a_download_that_expires(ada, app, worker):
    app.config["EXPORT_IN_BACKGROUND_ABOVE"] = 20
    make_files("ada@example.com", 25)
    answer = ada.client.get("/media/export.json")
    assert answer.status_code == 302  # too large to stream at once: the page offers the background export
    assert ada.post("/media/export", {"format": "json"}, htmx=False).status_code == 302
    worker()
    operation = db.session.scalars(sa.select(Operation).where(Operation.kind == "export")).one()
    assert operation.status == "succeeded" and operation.details["download"]
    url = operation.details["download"]
    download = ada.client.get(url)
    assert download.status_code == 302
    served = ada.client.get(download.headers["Location"], buffered=True)
    assert len(json.loads(served.get_data(as_text=True))["files"]) == 25
    # someone else's export is not found; an expired one is gone
    assert ada.client.get(f"/media/export/{operation.id + 1}/download").status_code == 404
    assert remove_expired_downloads(now=utcnow() + timedelta(days=2)) == 1
    assert ada.client.get(url).status_code == 404


def test_export_memory_does_not_grow_with_the_library(ada):
    def peak(count):
        make_files("ada@example.com", count - portability.file_count(owner("ada@example.com").id))
        user = owner("ada@example.com")
        tracemalloc.start()
        size = sum(len(piece) for piece in portability.export_json(user))
        _current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert size > count * 300
        return top
    small, large = peak(5_000), peak(100_000)
    assert large < 2 * small and large < 32 * 1024 * 1024, (small, large)


def test_export_and_import_from_the_command_line(library, app, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "ada.json"
    done = runner.invoke(args=["library", "export", "ada@example.com", str(path)])
    assert done.exit_code == 0, done.output
    assert "4 files of ada@example.com" in done.output and json.loads(path.read_text())["files"]
    listed = runner.invoke(args=["library", "export", "ada@example.com", str(tmp_path / "ada.csv"), "--csv"])
    assert listed.exit_code == 0 and (tmp_path / "ada.csv").read_text().startswith("id,name")
    dry = runner.invoke(args=["library", "import", "ben@example.com", str(path), "--dry-run"])
    assert dry.exit_code == 0 and "Dry run: would create 4 files" in dry.output
    assert not db.session.scalars(sa.select(MediaFile).where(MediaFile.owner_id == owner("ben@example.com").id)).all()
    real = runner.invoke(args=["library", "import", "ben@example.com", str(path)])
    assert real.exit_code == 0 and "created 4 files" in real.output, real.output
    (tmp_path / "bad.json").write_text('{"format": "mediamgr-library", "version": 1, "files": [{"id": 1}]}')
    bad = runner.invoke(args=["library", "import", "ben@example.com", str(tmp_path / "bad.json")])
    assert bad.exit_code != 0 and "files[0].name: missing" in bad.output
