"""A worker killed with SIGKILL in the middle of a bulk operation: once a worker runs again, the
operation finishes with every file handled exactly once. Real worker processes, real Redis, and
the database of the `app` fixture (SQLite and PostgreSQL)."""
import os
import signal
import time

import pytest
import sqlalchemy as sa

from rq.registry import StartedJobRegistry

from mediamgr.extensions import db
from mediamgr.jobs.names import BULK, get_queue
from mediamgr.library.models import MediaEvent, Tag, media_tags
from mediamgr.progress.models import Operation

from helpers import family_of, signal_all, start_worker, wait_for

pytestmark = pytest.mark.both_databases  # SQL the dialects may treat differently

FILES = 5000  # as in the issue: all 5,000 files matching a tag



def current(operation_id):
    db.session.rollback()
    return db.session.get(Operation, operation_id, populate_existing=True)


def test_a_worker_killed_mid_operation_is_replaced_and_every_file_is_tagged_once(app, ada, files, tmp_path):
    tagged = files("ada@example.com", FILES, tags=["midterm"])
    response = ada.post("/media/bulk", {"action": "add_tags", "scope": "library", "all": "1", "tag": "midterm",
                                        "tags": "graded"})
    assert response.status_code == 200, response.get_data(as_text=True)
    operation_id = db.session.scalar(sa.select(Operation.id).where(Operation.kind == "bulk"))
    log_path = tmp_path / "workers.log"

    first = start_worker(app, log_path)
    family = [first.pid]
    try:
        wait_for(lambda: current(operation_id).processed > 0, 120, "the worker to start on the files", log_path)
        family = family_of(first)  # the horse is at work now
        wait_for(lambda: current(operation_id).processed >= 1500, 120, "the first 1,500 files", log_path)
        # Frozen at once, then killed: however long this test takes to look, the horse does no more batches.
        signal_all(family, signal.SIGSTOP)
    finally:
        signal_all(family, signal.SIGKILL)
        first.wait()
    killed_at = current(operation_id)
    assert killed_at.status == "running" and 1500 <= killed_at.processed < FILES
    # RQ's own registry cleanup reaches the dead job first (as when the next worker starts long after
    # the crash): it calls the job's failure callback with AbandonedJobError. The operation must stay
    # for the rescue, not be marked Failed.
    StartedJobRegistry(queue=get_queue(BULK)).cleanup(timestamp=time.time() + 3600)
    assert current(operation_id).status == "running"

    second = start_worker(app, log_path)
    try:
        wait_for(lambda: current(operation_id).status == "succeeded", 180, "the operation to finish", log_path)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)

    done = current(operation_id)
    assert (done.processed, done.total, done.failed, done.checkpoint) == (FILES, FILES, 0, FILES)
    # At least the rescue after the kill. On a starved machine a worker may also take over from a
    # horse whose heartbeat was merely late; the counts below must hold either way.
    assert done.details.get("recoveries", 0) >= 1, log_path.read_text()[-4000:]
    graded = db.session.scalar(sa.select(Tag.id).where(Tag.name == "graded"))
    links = db.session.scalar(sa.select(sa.func.count()).select_from(media_tags).where(media_tags.c.tag_id == graded))
    assert links == FILES
    per_file = db.session.execute(
        sa.select(MediaEvent.media_id, sa.func.count()).where(MediaEvent.action == "tagged")
        .group_by(MediaEvent.media_id)).all()
    assert len(per_file) == FILES and {count for _media_id, count in per_file} == {1}
    assert {media_id for media_id, _count in per_file} == set(tagged)
    assert "continuing from file" in log_path.read_text()


def test_a_merge_whose_worker_is_killed_merges_every_copy_once(app, ada, files, tmp_path):
    """Merge all of 600 pairs of duplicates, the worker killed mid-way: every copy is merged (moved to
    the trash, with its history lines) exactly once, and every kept file stays."""
    from mediamgr.library.models import MediaFile
    pairs = 600
    ids = files("ada@example.com", 2 * pairs, prefix="copy")
    for index, media_id in enumerate(ids):
        db.session.execute(sa.update(MediaFile).where(MediaFile.id == media_id).values(sha256=f"{index % pairs:064x}"))
    db.session.commit()
    response = ada.post("/media/duplicates/merge", {"all": "1"})
    assert response.status_code == 200, response.get_data(as_text=True)
    operation_id = db.session.scalar(sa.select(Operation.id).where(Operation.kind == "bulk"))
    log_path = tmp_path / "workers.log"

    first = start_worker(app, log_path, BULK_BATCH_SIZE="50")
    family = [first.pid]
    try:
        wait_for(lambda: current(operation_id).processed > 0, 120, "the worker to start merging", log_path)
        family = family_of(first)
        wait_for(lambda: current(operation_id).processed >= 150, 120, "the first 150 copies", log_path)
        signal_all(family, signal.SIGSTOP)
    finally:
        signal_all(family, signal.SIGKILL)
        first.wait()
    assert 150 <= current(operation_id).processed < pairs

    second = start_worker(app, log_path, BULK_BATCH_SIZE="50")
    try:
        wait_for(lambda: current(operation_id).status == "succeeded", 180, "the merge to finish", log_path)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    done = current(operation_id)
    assert (done.processed, done.failed) == (pairs, 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile).where(MediaFile.deleted_at.is_(None))) == pairs
    trashed = db.session.execute(sa.select(MediaEvent.media_id, sa.func.count()).where(MediaEvent.action == "trashed")
                                 .group_by(MediaEvent.media_id)).all()
    assert len(trashed) == pairs and {count for _id, count in trashed} == {1}
    merged = db.session.scalar(sa.select(sa.func.count()).select_from(MediaEvent).where(MediaEvent.action == "merged"))
    assert merged == 2 * pairs
