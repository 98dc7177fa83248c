"""Each fault of the reliability run, in turn, on one scaled-out set (PostgreSQL, Redis, two page
processes, the websocket process, two workers, moto's S3 server): after each, without anyone
touching anything, every upload and operation finishes exactly once, and rows and bucket agree (no
orphan or missing object, no pending deletion, no unfinished multipart upload). The time from the
fault's end to that state is printed (and collected by `make bench`)."""
import os
import signal
import threading
import time

import psutil
import pytest
import requests
import sqlalchemy as sa
import simple_websocket

from mediamgr.extensions import db
from mediamgr.library.models import MediaEvent, MediaFile, Tag, media_tags
from mediamgr.progress.models import Operation
from mediamgr.upload.service import STAGING_ORPHAN_SECONDS

from factories import make_files
from helpers import open_progress_socket, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.xdist_group("faults")]
MiB = 1024**2


def uploaded(client, samples, count, label, padding=0):
    """`count` distinct images (or, with `padding`, videos that long) uploaded; their names."""
    names = []
    for number in range(count):
        if padding:
            name, content = f"{label}-{number}.webm", samples.video_bytes(seconds=1) + bytes([number + 1]) * padding
        else:
            name, content = f"{label}-{number}.png", samples.png_bytes(40 + number, 30, (number * 20, 90, len(label) * 9))
        answer = client.upload(name, content)
        assert answer.status_code == 201, answer.text[:300]
        names.append(name)
    return names


def assert_done_once(cluster, names):
    """Each named upload is one Ready file with one upload operation that succeeded and no failure."""
    db.session.rollback()
    if not names:
        return
    files = db.session.scalars(sa.select(MediaFile).where(MediaFile.name.in_(names))).all()
    assert sorted(media.name for media in files) == sorted(names)
    assert {media.status for media in files} == {"ready"}, [(m.name, m.status, m.failure_reason) for m in files]
    ids = [media.id for media in files]
    operations = db.session.scalars(sa.select(Operation).where(Operation.media_id.in_(ids))).all()
    assert len(operations) == len(ids) and {op.status for op in operations} == {"succeeded"}
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(MediaEvent).where(
        MediaEvent.media_id.in_(ids), MediaEvent.action == "failed"))


def settle(cluster, fault, fault_ended, names=(), resumed=None):
    recovered = max(cluster.wait_until_settled(), cluster.wait_until_storage_matches())
    assert_done_once(cluster, names)
    cluster.record(fault, fault_ended, recovered, resumed)


def taken_over(operation_ids, seconds=60):
    """When each of these operations has finished or been given a new job (the rescue), at least one
    of them rescued (the killed worker's; the others may have run on the other worker)."""
    def jobs():
        db.session.rollback()
        return {op.id: (op.job_id, op.status) for op in
                db.session.scalars(sa.select(Operation).where(Operation.id.in_(operation_ids)))}

    before = jobs()
    deadline = time.monotonic() + seconds
    while True:
        now = jobs()
        rescued = [key for key in now if now[key][0] != before[key][0]]
        if rescued and all(key in rescued or now[key][1] == "succeeded" for key in now):
            return time.monotonic()
        assert time.monotonic() < deadline, f"the stalled work was not taken over: {before} → {now}"
        time.sleep(0.02)


def test_a_worker_killed_during_ingest(cluster, samples):
    ada = cluster.client()
    names = uploaded(ada, samples, 3, "ingest", padding=24 * MiB)
    index, operation_id, killed_at = cluster.caught_at_work("upload")
    cluster.kill_worker(index)
    resumed = taken_over([operation_id])  # by the other worker's maintenance round
    settle(cluster, "worker SIGKILL during ingest", killed_at, names, resumed)
    assert "queued again" in cluster.worker_log()
    cluster.restart_worker(index)


def test_a_worker_killed_during_a_bulk_operation(cluster):
    ada = cluster.client()
    # 3,000 files of one stored object (the bucket holds what every row refers to), tagged in batches of 50.
    [anchor] = make_files("ada@example.com", 1, prefix="anchor")
    stored = db.session.get(MediaFile, anchor).storage_key
    cluster.s3.put_object(Bucket=cluster.bucket, Key=stored, Body=b"%PDF-1.4 anchor")
    ids = make_files("ada@example.com", 3000, tags=["term-1"], prefix="reading")
    db.session.execute(sa.update(MediaFile).where(MediaFile.id.in_(ids)).values(storage_key=stored))
    db.session.commit()
    answer = ada.post("/media/bulk", {"action": "add_tags", "scope": "library", "all": "1", "tag": "term-1",
                                      "tags": "graded"})
    assert answer.status_code == 200, answer.text[:300]
    [operation_id] = db.session.scalars(sa.select(Operation.id).where(Operation.kind == "bulk")).all()

    def processed():
        db.session.rollback()
        return db.session.get(Operation, operation_id, populate_existing=True).processed

    wait_for(lambda: processed() >= 300, 60, "the operation to start", cluster.logs / "worker-1.log")
    busy = cluster.caught_at_work("bulk")
    assert busy[1] == operation_id and processed() < 3000, "finished before the kill: more files needed"
    killed_at = busy[2]
    cluster.kill_worker(busy[0])
    resumed = taken_over([operation_id])
    settle(cluster, "worker SIGKILL during a bulk operation", killed_at, resumed=resumed)
    done = db.session.get(Operation, operation_id, populate_existing=True)
    assert (done.status, done.processed, done.failed) == ("succeeded", 3000, 0)
    graded = db.session.scalar(sa.select(Tag.id).where(Tag.name == "graded"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(media_tags)
                             .where(media_tags.c.tag_id == graded)) == 3000
    per_file = db.session.execute(sa.select(sa.func.count()).where(MediaEvent.action == "tagged")
                                  .group_by(MediaEvent.media_id)).scalars().all()
    assert len(per_file) == 3000 and set(per_file) == {1}  # each file tagged exactly once
    cluster.restart_worker(busy[0])
    # The 3,000 rows share one object; removing them again keeps the next faults' checks simple.
    db.session.execute(sa.delete(MediaEvent).where(MediaEvent.media_id.in_(ids)))
    db.session.execute(sa.delete(MediaFile).where(MediaFile.id.in_(ids)))
    db.session.commit()


def test_redis_restarted_empty_with_uploads_queued(cluster, samples):
    ada = cluster.client()
    cluster.signal_workers(signal.SIGSTOP)  # the uploads wait in the queue
    try:
        names = uploaded(ada, samples, 3, "queued")
        cluster.restart_redis_empty()
    finally:
        cluster.signal_workers(signal.SIGCONT)
    restarted_at = time.monotonic()
    settle(cluster, "Redis restarted empty", restarted_at, names)


def test_redis_stopped_while_workers_run_jobs(cluster, samples):
    """RQ's own worker quits for good when Redis goes away under a running job; ours wait and go on."""
    ada = cluster.client()
    names = uploaded(ada, samples, 3, "redis-away", padding=32 * MiB)

    def an_upload_running():
        db.session.rollback()
        return db.session.scalar(sa.select(sa.func.count()).select_from(Operation).where(
            Operation.kind == "upload", Operation.status == "running"))

    wait_for(an_upload_running, 60, "a worker to take an upload")
    cluster.stop_redis()
    try:
        time.sleep(4)
    finally:
        cluster.start_redis()  # empty: it keeps nothing on disk
    back_at = time.monotonic()
    settle(cluster, "Redis stopped for 4 s during jobs", back_at, names)
    assert [worker.poll() for worker in cluster.workers] == [None, None], cluster.worker_log()


def test_a_page_process_killed_mid_upload(cluster, samples):
    """gunicorn starts a new page worker; the half-received body is swept by the maintenance round."""
    ada = cluster.client()
    web, url = cluster.webs[0]
    [page_worker] = psutil.Process(web.pid).children()
    sent = threading.Event()

    def slow_body():
        yield samples.video_bytes(seconds=1)
        for _ in range(200):
            yield b"\0" * 256 * 1024
            sent.set()
            time.sleep(0.02)

    failures = []

    def upload():
        try:
            ada.http.post(url + "/media/upload", data=slow_body(), timeout=30, headers={
                "X-CSRFToken": ada.token, "X-Filename": "cut-off.webm", "Content-Type": "application/octet-stream",
                "X-Requested-With": "XMLHttpRequest"})
        except requests.RequestException as error:
            failures.append(error)

    thread = threading.Thread(target=upload)
    thread.start()
    sent.wait(10)
    wait_for(lambda: any(cluster.staging.glob("incoming-*.part")), 10, "the body to be staged")
    page_worker.kill()
    killed_at = time.monotonic()
    thread.join(30)
    assert failures, "the upload was not cut off"
    wait_for(lambda: _serves(url), 30, "gunicorn to start a new page worker")
    served_at = time.monotonic()
    # What the dead request was writing is swept once it is old enough that no request can still be
    # writing it (STAGING_ORPHAN_SECONDS): made that old here rather than waiting an hour.
    for part in cluster.staging.glob("incoming-*.part"):
        os.utime(part, (time.time() - 2 * STAGING_ORPHAN_SECONDS,) * 2)
    cluster.wait_until_storage_matches()
    assert not db.session.scalar(sa.select(sa.func.count()).where(MediaFile.name == "cut-off.webm"))
    cluster.record("page worker SIGKILL mid-upload", killed_at, served_at)


def _serves(url):
    try:
        return requests.get(url + "/login", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_s3_refusing_connections(cluster, samples):
    ada = cluster.client()
    [old] = uploaded(ada, samples, 1, "old-slide")
    cluster.wait_until_settled()
    old_id = db.session.scalar(sa.select(MediaFile.id).where(MediaFile.name == old))
    cluster.s3_proxy.stop()
    try:
        names = uploaded(ada, samples, 3, "refused")
        assert ada.post(f"/media/{old_id}/trash").status_code == 200
        assert ada.post(f"/media/{old_id}/delete", {"confirmed": "1"}).status_code in (200, 204)
        time.sleep(3)
        assert requests.get(cluster.urls[0] + "/healthz", timeout=10).json()["checks"]["storage"].startswith("down")
    finally:
        cluster.s3_proxy.start()
    back_at = time.monotonic()
    settle(cluster, "S3 refusing connections", back_at, names)
    assert db.session.get(MediaFile, old_id) is None


def test_s3_hanging(cluster, samples):
    ada = cluster.client()
    cluster.s3_proxy.hang()
    try:
        names = uploaded(ada, samples, 2, "hanging")
        started = time.monotonic()
        for url in cluster.urls:  # pages do not wait on the bucket
            assert requests.get(url + "/healthz", timeout=10).status_code in (200, 503)
            assert ada.get("/media").status_code == 200
        assert time.monotonic() - started < 10
        time.sleep(3)
    finally:
        cluster.s3_proxy.resume()  # the hang ends; what it held is reset
    back_at = time.monotonic()
    settle(cluster, "S3 hanging", back_at, names)


def test_database_stopped_mid_request(cluster, samples):
    ada = cluster.client()
    names = uploaded(ada, samples, 3, "db-down")
    cluster.db_proxy.stop()  # every connection cut, new ones refused: the server is gone
    try:
        for url in cluster.urls:
            answer = ada.http.get(url + "/media", timeout=30)
            assert answer.status_code == 503 and "Retry-After" in answer.headers, answer.text[:300]
            assert "Traceback" not in answer.text
        refused = ada.upload("while-down.png", b"\x89PNG")  # the visitor is told; nothing half-kept
        assert refused.status_code == 503
        time.sleep(2)
    finally:
        cluster.db_proxy.start()
    back_at = time.monotonic()
    settle(cluster, "database stopped", back_at, names)
    assert ada.get("/media").status_code == 200
    assert not db.session.scalar(sa.select(sa.func.count()).where(MediaFile.name == "while-down.png"))


def test_staging_disk_full(cluster, samples):
    if not cluster.small_staging:
        pytest.skip(f"no small tmpfs for staging here ({cluster.staging_note}): needs root")
    ada = cluster.client()
    filler = cluster.staging / "filler.bin"
    free = __import__("shutil").disk_usage(cluster.staging).free
    with open(filler, "wb") as out:
        out.truncate(0)
        out.write(b"\0" * (free - 4 * MiB))  # less room left than the staging reserve
    try:
        answer = ada.upload("too-much.png", samples.png_bytes(70, 30))
        assert answer.status_code == 507 and "space" in answer.text.lower(), answer.text[:300]
    finally:
        filler.unlink()
    freed_at = time.monotonic()
    names = uploaded(ada, samples, 1, "after-full")
    settle(cluster, "staging disk full", freed_at, names)
    assert not db.session.scalar(sa.select(sa.func.count()).where(MediaFile.name == "too-much.png"))


def test_many_idle_progress_sockets(cluster):
    """200 sockets of one user (her 200 tabs): the cap closes all but 8, and no page waits for them."""
    ada, ben = cluster.client(), cluster.client("ben@example.com")
    cookie = "; ".join(f"{c.name}={c.value}" for c in ada.http.cookies)
    sockets, refused = [], []

    def open_one():
        try:
            sockets.append(open_progress_socket(cluster.sockets_url, cookie))
        except Exception as error:  # closed at once: over the cap
            refused.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        started = time.monotonic()
        for url in cluster.urls:
            assert requests.get(url + "/login", timeout=5).status_code == 200
            # Answered at once; storage may still be being checked again after the S3 faults before this one.
            checks = requests.get(url + "/healthz", timeout=5).json()["checks"]
            assert checks["database"] == checks["redis"] == "ok", checks
        assert ben.get("/media").status_code == 200
        assert time.monotonic() - started < 5
        time.sleep(1)  # the cap's closing frames arrive
        still_open = 0
        for ws in sockets:
            try:
                ws.receive(timeout=0.05)
                still_open += ws.connected
            except simple_websocket.ConnectionClosed:
                pass
        assert still_open == 8, (still_open, refused[:3])  # her newest 8; each other page polls
    finally:
        for ws in sockets:
            if ws.connected:
                ws.close()
