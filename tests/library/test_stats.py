"""The storage summaries (library.stats) kept by triggers and folded in SQL equal what the files and
versions themselves say, after every kind of change: uploads, identical content, trash, restore,
links made and removed, replacements, permanent deletes, and changes made while a fold runs."""
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from mediamgr.auth.models import User
from mediamgr.extensions import db
from mediamgr.library import stats
from mediamgr.library.models import MediaFile, MediaVersion

from factories import course_with_chapters, link, make_files


def bucket(size):
    return sum(size >= edge for edge in stats.SIZE_EDGES)


def monday(moment):
    day = moment.date()
    return day - timedelta(days=day.weekday())


def expected():
    """Every summary, computed from the rows in Python (the slow way, for comparison)."""
    listed, orphans, owners, keys = Counter(), Counter(), {}, {}
    files = db.session.scalars(sa.select(MediaFile)).all()
    for media in files:
        state = "library" if media.deleted_at is None else "trash"
        listed[(media.owner_id, state, media.kind, bucket(media.size_bytes), monday(media.created_at), "files")] += 1
        listed[(media.owner_id, state, media.kind, bucket(media.size_bytes), monday(media.created_at), "bytes")] += media.size_bytes
        if state == "library" and media.usage_count == 0:
            kind = "never" if media.unlinked_at is None else "previous"
            since = (media.unlinked_at or media.created_at).date()
            orphans[(media.owner_id, kind, since, "files")] += 1
            orphans[(media.owner_id, kind, since, "bytes")] += media.size_bytes
        key = keys.setdefault((media.owner_id, media.storage_key), {"size": media.size_bytes, "listed": 0})
        key["listed"] += state == "library"
    for version in db.session.scalars(sa.select(MediaVersion).where(MediaVersion.status == "ready")):
        keys.setdefault((version.owner_id, version.storage_key), {"size": version.size_bytes, "listed": 0})
    for (owner_id, _key), held in keys.items():
        figures = owners.setdefault(owner_id, Counter())
        figures["stored_bytes"] += held["size"]
        figures["stored_objects"] += 1
        if held["listed"] > 1:
            figures["duplicate_groups"] += 1
            figures["duplicate_files"] += held["listed"]
            figures["duplicate_bytes"] += held["size"] * (held["listed"] - 1)
    return +listed, +orphans, {owner: +figures for owner, figures in owners.items() if +figures}


def summarised():
    stats.fold()
    listed, orphans, owners = Counter(), Counter(), {}
    for row in db.session.execute(sa.select(stats.media_stats)).mappings():
        for figure in ("files", "bytes"):
            listed[(row["owner_id"], row["state"], row["kind"], row["size_bucket"], row["week"], figure)] += row[figure]
    for row in db.session.execute(sa.select(stats.orphan_stats)).mappings():
        for figure in ("files", "bytes"):
            orphans[(row["owner_id"], row["orphan"], row["since"], figure)] += row[figure]
    for row in db.session.execute(sa.select(stats.owner_storage)).mappings():
        figures = +Counter({name: row[name] for name in stats.OWNER_FIGURES})
        if figures:
            owners[row["owner_id"]] = figures
    return +listed, +orphans, owners


def assert_summaries_match():
    assert summarised() == expected()


def owner(email):
    return db.session.scalar(sa.select(User.id).where(User.email == email))


@pytest.mark.both_databases
def test_summaries_follow_every_change(ada, ben, worker, samples):
    first, second = samples.png_bytes(), samples.png_bytes(color=(9, 9, 9))
    ada.upload("a.png", first)
    ada.upload("a copy.png", first)  # the same content: a duplicate, stored once
    ada.upload("b.png", second)
    ben.upload("a.png", first)  # another owner's copy is his own object
    worker()
    assert_summaries_match()
    names = {m.name: m for m in db.session.scalars(sa.select(MediaFile).where(MediaFile.owner_id == owner("ada@example.com")))}

    ada.post(f"/media/{names['b.png'].id}/trash")
    assert_summaries_match()
    ada.post(f"/media/{names['b.png'].id}/restore")
    _course, (chapter,) = course_with_chapters(ada, "Week 1")
    link(ada, chapter, [names["a.png"].id, names["b.png"].id])
    assert_summaries_match()
    item_ids = db.session.scalars(sa.text("SELECT id FROM chapter_items")).all()
    for item_id in item_ids:
        ada.post(f"/items/{item_id}/remove")
    db.session.expire_all()
    assert db.session.get(MediaFile, names["a.png"].id).unlinked_at is not None  # now "previously used"
    assert_summaries_match()

    ada.client.post(f"/media/{names['a.png'].id}/replace", data=samples.png_bytes(color=(1, 2, 3)), headers=ada.headers(
        htmx=False, **{"X-Filename": "a2.png", "Content-Type": "application/octet-stream", "X-Requested-With": "XMLHttpRequest"}))
    worker()
    assert_summaries_match()
    ada.post(f"/media/{names['a copy.png'].id}/trash")
    ada.post(f"/media/{names['a copy.png'].id}/delete")
    worker()
    assert_summaries_match()
    listed, _orphans, owners = summarised()
    assert owners[owner("ada@example.com")]["stored_bytes"] == stats.stored_bytes(owner("ada@example.com"))


@pytest.mark.both_databases
def test_pending_changes_count_before_a_fold(ada, app):
    make_files("ada@example.com", 30)
    stats.fold()
    before = stats.stored_bytes(owner("ada@example.com"))
    make_files("ada@example.com", 5)  # not folded yet: the quota's count sees them all the same
    assert db.session.scalar(sa.select(sa.func.count()).select_from(stats.deltas)) == 5
    added = db.session.scalar(sa.select(sa.func.sum(MediaFile.size_bytes)).where(MediaFile.id.in_(
        sa.select(MediaFile.id).order_by(MediaFile.id.desc()).limit(5))))
    assert stats.stored_bytes(owner("ada@example.com")) == before + added
    assert stats.fold() == 5 and stats.fold() == 0
    assert_summaries_match()


@pytest.mark.both_databases
def test_bulk_changes_and_deleted_accounts(ada, ben, app):
    ids = make_files("ada@example.com", 200, kind="video")
    make_files("ben@example.com", 50, trashed=True)
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids[:100])).values(
        size_bytes=MediaFile.size_bytes * 100_000, deleted_at=sa.func.current_timestamp()))
    db.session.commit()
    assert_summaries_match()
    db.session.execute(sa.delete(MediaFile).where(MediaFile.id.in_(ids[150:])))
    db.session.execute(sa.delete(User).where(User.email == "ben@example.com"))
    db.session.commit()
    stats.fold()
    db.session.execute(sa.delete(stats.owner_storage).where(stats.owner_storage.c.owner_id == owner("ben@example.com")))
    assert_summaries_match()


def test_size_buckets_edges(app):
    values = [0, 999_999, 1_000_000, 9_999_999, 10_000_000, 99_999_999, 100_000_000, 999_999_999, 10**9, 10**12]
    got = db.session.execute(sa.select(*(stats.size_bucket(sa.literal(v)) for v in values))).one()
    assert list(got) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


@pytest.mark.both_databases
def test_a_fold_never_waits_for_another(ada, app):
    """A worker's maintenance round folds; it must not hang behind another process's fold (PostgreSQL
    holds one fold at a time with an advisory lock: the second one skips)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers itself")
    make_files("ada@example.com", 3)
    with db.engine.connect() as other:
        other.execute(sa.select(sa.func.pg_advisory_xact_lock(stats.FOLD_LOCK)))  # another fold under way
        assert stats.fold() == 0
        other.rollback()
    assert stats.fold() == 3
