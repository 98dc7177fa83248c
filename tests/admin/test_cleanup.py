"""Admin cleanups: a dry run lists exactly what a run removes; files that change meanwhile (a link made
mid-run, a restore, an edit) are spared and counted; orphans go to the trash unless deleted
permanently; the audit record; the CSV (formula injection neutralised); the command line; quotas
on /admin; admin-only pages, rq-dashboard included."""
import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediamgr.admin import cleanups
from mediamgr.auth.models import User
from mediamgr.extensions import db
from mediamgr.library import cleanup
from mediamgr.library.models import MediaFile, PendingDeletion
from mediamgr.timeutil import utcnow

from factories import course_with_chapters, link, make_files


def set_rows(ids, **values):
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids)).values(**values))
    db.session.commit()


@pytest.fixture
def orphans(ada, ben):
    """Ada: 6 never used 100 days old, 2 previously used (unlinked 100 days ago), 2 recent, 2 linked
    (old); Ben: 3 never used, 100 days old."""
    old = utcnow() - timedelta(days=100)
    never = make_files("ada@example.com", 6, prefix="never")
    previously = make_files("ada@example.com", 2, prefix="previously")
    recent = make_files("ada@example.com", 2, prefix="recent")
    linked = make_files("ada@example.com", 2, prefix="linked")
    bens = make_files("ben@example.com", 3, prefix="ben")
    set_rows(never + previously + linked + bens, created_at=old, updated_at=old)
    set_rows(previously, unlinked_at=old)
    _course, (chapter,) = course_with_chapters(ada, "Week 1")
    link(ada, chapter, linked)
    return {"never": never, "previously": previously, "recent": recent, "linked": linked, "ben": bens,
            "chapter": chapter}


def dry_run(admin, **form):
    answer = admin.post("/admin/cleanup/dry-run", {"kind": "orphans", "older_than": "30", "orphans": "both", **form},
                        htmx=False)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    run_id = int(re.search(r"/admin/cleanup/(\d+)", answer.headers["Location"]).group(1))
    return db.session.get(cleanup.CleanupRun, run_id)


def listed(run):
    return set(db.session.scalars(sa.select(cleanup.CleanupItem.media_id).where(cleanup.CleanupItem.run_id == run.id)))


def in_trash(ids):
    return set(db.session.scalars(sa.select(MediaFile.id).where(MediaFile.id.in_(ids), MediaFile.deleted_at.is_not(None))))


@pytest.mark.both_databases
def test_the_run_removes_what_the_dry_run_listed(orphans, admin, worker):
    run = dry_run(admin)
    expected = set(orphans["never"] + orphans["previously"] + orphans["ben"])
    assert listed(run) == expected and run.files == 11 and run.bytes > 0
    page = admin.get(f"/admin/cleanup/{run.id}").get_data(as_text=True)
    assert "11" in page and "ben@example.com" in page and "Run cleanup" in page and "Download CSV" in page
    assert in_trash(expected) == set()  # a dry run removes nothing
    newcomer = make_files("ada@example.com", 1, prefix="late")  # matches now, but was not listed
    set_rows(newcomer, created_at=utcnow() - timedelta(days=200), updated_at=utcnow() - timedelta(days=200))
    assert admin.post(f"/admin/cleanup/{run.id}/run", htmx=False).status_code == 302
    worker()
    db.session.expire_all()
    assert in_trash(expected | set(newcomer) | set(orphans["linked"] + orphans["recent"])) == expected
    run = db.session.get(cleanup.CleanupRun, run.id)
    assert (run.status, run.removed, run.spared, run.failures) == ("finished", 11, {}, 0)
    assert run.bytes_freed == 0  # in the trash, the bytes stay until it is purged
    admin_page = admin.get("/admin").get_data(as_text=True)
    assert "Cleanup history" in admin_page and "11 of 11" in admin_page
    assert admin.post(f"/admin/cleanup/{run.id}/run", htmx=False).status_code == 302  # a second press: nothing
    assert db.session.scalar(sa.select(sa.func.count()).select_from(cleanup.CleanupRun)
                             .where(cleanup.CleanupRun.operation_id.is_not(None))) == 1


@pytest.mark.both_databases
def test_a_link_made_mid_run_protects_its_file(orphans, admin, ada, app):
    app.config["BULK_BATCH_SIZE"] = 2
    run = dry_run(admin, user="ada@example.com", orphans="never-used")
    assert listed(run) == set(orphans["never"])
    last = max(orphans["never"])
    edited = sorted(orphans["never"])[-2]
    made = []

    def between_batches(operation):
        if not made:  # after the first batch: a course links the last file, another one is renamed
            link(ada, orphans["chapter"], [last])
            ada.post(f"/media/{edited}/rename", {"name": "renamed.pdf"})
            made.append(operation.processed)

    admin_user = db.session.scalar(sa.select(User).where(User.email == "root@example.com"))
    cleanups.run_here(run, admin_user, on_batch=between_batches)
    assert made == [2]
    run = db.session.get(cleanup.CleanupRun, run.id)
    assert in_trash(orphans["never"]) == set(orphans["never"]) - {last, edited}
    assert run.removed == 4 and run.spared == {cleanup.LINKED: 1, cleanup.EDITED: 1}
    page = admin.get(f"/admin/cleanup/{run.id}").get_data(as_text=True)
    assert cleanup.LINKED in page and cleanup.EDITED in page


@pytest.mark.both_databases
def test_purge_of_expired_trash_spares_a_restored_file(ada, admin, worker):
    ids = make_files("ada@example.com", 4, trashed=True, stored=True)
    long_ago = utcnow() - timedelta(days=45)
    set_rows(ids[:3], deleted_at=long_ago, updated_at=long_ago)
    run = dry_run(admin, kind="purge-trash")
    assert listed(run) == set(ids[:3])
    ada.post(f"/media/{ids[0]}/restore")
    admin.post(f"/admin/cleanup/{run.id}/run", htmx=False)
    worker()
    db.session.expire_all()
    remaining = set(db.session.scalars(sa.select(MediaFile.id).where(MediaFile.id.in_(ids))))
    assert remaining == {ids[0], ids[3]}
    run = db.session.get(cleanup.CleanupRun, run.id)
    assert run.removed == 2 and run.spared == {cleanup.RESTORED: 1} and run.bytes_freed == 1001 + 1002
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingDeletion)) == 0  # bytes removed after the run


@pytest.mark.both_databases
def test_orphans_deleted_permanently_only_when_confirmed(orphans, admin, worker):
    run = dry_run(admin, permanent="1", user="ben@example.com")
    assert listed(run) == set(orphans["ben"])
    refused = admin.post(f"/admin/cleanup/{run.id}/run", htmx=False)
    assert refused.status_code == 302 and db.session.get(cleanup.CleanupRun, run.id).status == "dry-run"
    admin.post(f"/admin/cleanup/{run.id}/run", {"confirm": "delete"}, htmx=False)
    worker()
    db.session.expire_all()
    assert not db.session.scalars(sa.select(MediaFile.id).where(MediaFile.id.in_(orphans["ben"]))).all()
    run = db.session.get(cleanup.CleanupRun, run.id)
    assert run.removed == 3 and run.bytes_freed == sum(1000 + n for n in range(3))


def test_bad_criteria_are_refused_with_a_message(admin):
    for form, message in (({"older_than": "abc"}, "number of days"), ({"orphans": "some"}, "Choose which orphans"),
                          ({"user": "nobody@example.com"}, "no user with the email"), ({"kind": "all"}, "Choose")):
        answer = admin.post("/admin/cleanup/dry-run", {"kind": "orphans", "older_than": "30", **form}, htmx=False)
        assert answer.status_code == 302 and "#cleanup" in answer.headers["Location"]
        assert message in admin.get("/admin").get_data(as_text=True)
    assert not db.session.scalars(sa.select(cleanup.CleanupRun)).all()


def test_the_csv_lists_everything_and_neutralises_formulas(ada, admin):
    ids = make_files("ada@example.com", 5, prefix="x")
    hostile = ["=HYPERLINK(\"http://evil\")", "+1+2", "-3", "@SUM(A1)", "\tTab"]
    for media_id, name in zip(ids, hostile):
        set_rows([media_id], name=name, created_at=utcnow() - timedelta(days=10))
    run = dry_run(admin, older_than="1")
    answer = admin.client.get(f"/admin/cleanup/{run.id}.csv", buffered=True)  # read as a browser reads the stream
    assert answer.status_code == 200 and answer.mimetype == "text/csv" and "Content-Length" not in answer.headers
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0][:3] == ["file id", "owner", "name"] and len(rows) == 6
    assert sorted(row[2] for row in rows[1:]) == sorted("'" + name for name in hostile)


def test_cleanup_from_the_command_line(orphans, app, admin):
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["cleanup", "orphans", "--older-than", "30", "--kind", "previously-used", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "2 files" in dry.output and "Nothing was removed" in dry.output
    done = runner.invoke(args=["cleanup", "orphans", "--older-than", "30", "--user", "ben@example.com"])
    assert done.exit_code == 0, done.output
    assert "Finished: 3 of 3 files removed" in done.output
    assert in_trash(orphans["ben"]) == set(orphans["ben"])
    record = db.session.scalars(sa.select(cleanup.CleanupRun).where(cleanup.CleanupRun.status == "finished")).one()
    assert record.source == "cli" and record.actor_name.startswith("command line")
    assert "command line" in admin.get("/admin").get_data(as_text=True)
    purge = runner.invoke(args=["cleanup", "purge-trash", "--dry-run"])
    assert purge.exit_code == 0 and "0 files" in purge.output
    bad = runner.invoke(args=["cleanup", "orphans", "--older-than", "30", "--user", "nobody@example.com"])
    assert bad.exit_code != 0 and "no user with the email" in bad.output


def test_quotas_are_set_on_the_admin_page(admin, ada):
    ada_id = db.session.scalar(sa.select(User.id).where(User.email == "ada@example.com"))
    assert admin.post(f"/admin/users/{ada_id}/quota", {"quota": "10GB"}, htmx=False).status_code == 302
    assert db.session.get(User, ada_id).quota_bytes == 10 * 10**9  # decimal, as storage is billed and sizes shown
    page = admin.get("/admin").get_data(as_text=True)
    assert "now has a quota of 10.0 GB" in page and "New accounts get no quota" in page
    assert 'value="10GB"' in page  # shown as it can be saved again
    admin.post(f"/admin/users/{ada_id}/quota", {"quota": "1.5 TB"}, htmx=False)
    db.session.expire_all()
    assert db.session.get(User, ada_id).quota_bytes == 1_500_000_000_000
    admin.post(f"/admin/users/{ada_id}/quota", {"quota": "lots"}, htmx=False)
    assert "quota was not changed" in admin.get("/admin").get_data(as_text=True)
    admin.post(f"/admin/users/{ada_id}/quota", {"quota": "unlimited"}, htmx=False)
    db.session.expire_all()
    assert db.session.get(User, ada_id).quota_bytes is None


def test_admin_pages_are_for_admins_only(ada, admin, app):
    run = dry_run(admin)
    for url in ("/admin", "/admin/rq/", "/admin/rq/0/view/workers", "/admin/rq/0/data/queues.json",
                f"/admin/cleanup/{run.id}", f"/admin/cleanup/{run.id}.csv"):
        assert ada.get(url).status_code == 404, url
        assert app.test_client().get(url).status_code in (302, 404), url
    assert app.test_client().get("/admin/rq/").status_code == 404
    assert ada.post(f"/admin/cleanup/{run.id}/run").status_code == 404
    assert ada.post("/admin/cleanup/dry-run", {"kind": "purge-trash"}).status_code == 404


def test_rq_dashboard_is_behind_login_and_csrf(admin):
    page = admin.get("/admin/rq/")
    assert page.status_code == 200 and "RQ" in page.get_data(as_text=True)
    policy = page.headers["Content-Security-Policy"]
    assert "'sha256-" in policy and "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    token = re.search(r"_csrf_token=([^;]+)", page.headers["Set-Cookie"]).group(1)
    assert admin.client.post("/admin/rq/job/nonexistent/delete").status_code == 400  # no token: refused
    answer = admin.client.post("/admin/rq/job/nonexistent/delete", headers={"X-CSRFToken": token})
    assert answer.status_code != 400
