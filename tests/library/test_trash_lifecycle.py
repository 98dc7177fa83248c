"""The trash's recovery period: each row says how long it has left, the page says when files go, and
the maintenance round deletes files past TRASH_RETENTION_DAYS for good, in batches, with their bytes
(only those nothing else uses), a history line each and one purge record per owner."""
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa

from factories import make_files
from mediamgr.extensions import db
from mediamgr.jobs.purge import purge_expired_trash
from mediamgr.library.models import MediaEvent, MediaFile
from mediamgr.progress.models import Operation
from mediamgr.storage import get_storage
from mediamgr.timeutil import utcnow


def trashed_days_ago(ids, days):
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids))
                       .values(deleted_at=utcnow() - timedelta(days=days), status="deleted"))
    db.session.commit()


def test_each_trash_row_says_how_long_it_has_left(ada):
    fresh, older, last_day = make_files("ada@example.com", 3, trashed=True, prefix="handout")
    trashed_days_ago([older], 25.5)
    trashed_days_ago([last_day], 29.6)
    page = ada.get("/media/trash").get_data(as_text=True)
    assert "Files in the trash are deleted permanently 30 days after they were moved there." in page

    def row(media_id):
        start = page.index(f'id="trash-{media_id}"')
        return page[start:page.index("</li>", start)]

    assert "30 days left" in row(fresh)
    assert "5 days left" in row(older)
    assert "Deleted today" in row(last_day)


def test_the_recovery_period_is_a_setting(ada, app):
    app.config["TRASH_RETENTION_DAYS"] = 7
    (media_id,) = make_files("ada@example.com", 1, trashed=True)
    trashed_days_ago([media_id], 5.5)
    page = ada.get("/media/trash").get_data(as_text=True)
    assert "7 days after they were moved there" in page and "2 days left" in page


@pytest.mark.both_databases
def test_the_purge_deletes_expired_files_with_their_bytes_and_keeps_the_rest(ada, ben, app):
    app.config["BULK_BATCH_SIZE"] = 2
    expired = make_files("ada@example.com", 5, trashed=True, stored=True, prefix="old")
    recent = make_files("ada@example.com", 2, trashed=True, stored=True, prefix="recent")
    in_library = make_files("ada@example.com", 1, stored=True, prefix="kept")
    bens = make_files("ben@example.com", 2, trashed=True, stored=True, prefix="bens")
    trashed_days_ago(expired + bens, 31)
    trashed_days_ago(recent, 29)
    keys = {row.id: row.storage_key for row in db.session.scalars(sa.select(MediaFile))}

    purged = purge_expired_trash(batch_size=2)

    assert purged == 7
    left = set(db.session.scalars(sa.select(MediaFile.id)))
    assert left == set(recent + in_library)
    storage = get_storage()
    assert not any(storage.exists(keys[media_id]) for media_id in expired + bens)
    assert all(storage.exists(keys[media_id]) for media_id in recent + in_library)
    lines = db.session.scalars(sa.select(MediaEvent.description).where(MediaEvent.action == "deleted")).all()
    assert lines == ["Deleted permanently: its 30 days in the trash ended"] * 7
    records = {op.owner_id: op for op in db.session.scalars(sa.select(Operation).where(Operation.kind == "purge"))}
    assert sorted((op.processed, op.status) for op in records.values()) == [(2, "succeeded"), (5, "succeeded")]
    assert all(op.details["bytes_freed"] > 0 for op in records.values())
    assert purge_expired_trash() == 0  # nothing left to do: no second record either
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Operation).where(Operation.kind == "purge")) == 2


def test_bytes_another_file_still_uses_are_kept(ada):
    old, twin = make_files("ada@example.com", 2, stored=True, prefix="twin")
    shared = db.session.get(MediaFile, twin).storage_key
    db.session.execute(sa.update(MediaFile).where(MediaFile.id == old).values(storage_key=shared))
    db.session.commit()
    trashed_days_ago([old], 40)
    assert purge_expired_trash() == 1
    assert get_storage().exists(shared)


def test_one_purge_at_a_time_across_workers(ada, app):
    (media_id,) = make_files("ada@example.com", 1, trashed=True)
    trashed_days_ago([media_id], 31)
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    lock = f"{app.config['REDIS_NAMESPACE']}:trash-purge"
    client.set(lock, "another worker", ex=60)
    try:
        assert purge_expired_trash() == 0  # another worker is purging
        assert db.session.get(MediaFile, media_id) is not None
    finally:
        client.delete(lock)
    assert purge_expired_trash() == 1
    assert not client.exists(lock)  # released when done


def test_a_linked_file_is_never_purged(ada):
    """A linked file cannot be in the trash; should one be (a bug, a hand edit), the purge keeps it."""
    (media_id,) = make_files("ada@example.com", 1, trashed=True)
    db.session.execute(sa.update(MediaFile).where(MediaFile.id == media_id).values(usage_count=1))
    db.session.commit()
    trashed_days_ago([media_id], 100)
    assert purge_expired_trash() == 0
    assert db.session.get(MediaFile, media_id) is not None
