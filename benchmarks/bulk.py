"""Bulk operations, end to end: a bulk add-tag and a bulk trash of 10,000 files selected by filter
("Select all matching"), from the request to the operation's end, with a real worker process on the
seeded database; the progress events each operation publishes per second; and, against moto's S3
server, the storage requests it takes to delete 10,000 stored files permanently."""
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from mediamgr import create_app
from mediamgr.cli import ensure_user
from mediamgr.extensions import db, redis_connection
from mediamgr.library import stats
from mediamgr.progress.models import Operation
from mediamgr.progress.publisher import channel_for

from .report import Check, median
from .services import start_process, stop_process

FILES = 10_000
MAX_SECONDS = 3.0
MAX_EVENTS_PER_SECOND = 10
MAX_DELETE_REQUESTS = 11
EMAIL, PASSWORD = "bulk@bench.example", "bench-password-1"
TAG = "bulk-bench"
ROOT = Path(__file__).resolve().parent.parent
_FOREIGN = ("DATABASE_", "REDIS_", "S3_", "STORAGE_", "STAGING_", "BULK_", "MAINTENANCE_")


def _make_files(email, count, tag, trashed=False):
    import hashlib

    from mediamgr.auth.models import User
    from mediamgr.library.models import MediaFile, Tag, media_tags
    from mediamgr.storage import content_key
    from mediamgr.timeutil import utcnow

    owner = db.session.scalar(sa.select(User).where(User.email == email))
    now = utcnow()
    rows = []
    for number in range(count):
        name = f"bulk bench {number:05d}.pdf"
        sha = hashlib.sha256(f"{email}-{number}".encode()).hexdigest()
        rows.append({"owner_id": owner.id, "name": name, "name_key": name, "search_text": f"{name} {tag}",
                     "original_name": name, "kind": "document", "mime_type": "application/pdf",
                     "size_bytes": 1000 + number, "sha256": sha, "storage_key": content_key(owner.id, sha),
                     "category": "", "description": "", "status": "deleted" if trashed else "ready",
                     "created_at": now, "updated_at": now, "ready_at": now, "deleted_at": now if trashed else None})
    for start in range(0, count, 2000):
        db.session.execute(sa.insert(MediaFile), rows[start:start + 2000])
    tag_row = Tag(owner_id=owner.id, name=tag)
    db.session.add(tag_row)
    db.session.flush()
    ids = db.session.scalars(sa.select(MediaFile.id).where(MediaFile.owner_id == owner.id)).all()
    db.session.execute(sa.insert(media_tags), [{"media_id": media_id, "tag_id": tag_row.id} for media_id in ids])
    db.session.commit()
    return owner, [row["storage_key"] for row in rows]


class EventCounter:
    """Listens on the user's progress channel and keeps each operation's event times."""

    def __init__(self, user_id):
        self.pubsub = redis_connection.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel_for(user_id))
        self.times = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self):
        while not self.stop.is_set():
            message = self.pubsub.get_message(timeout=0.2)
            if message and message["type"] == "message":
                event = json.loads(message["data"])
                self.times.setdefault(event["id"], []).append(time.monotonic())

    def busiest_second(self, operation_id):
        times = sorted(self.times.get(operation_id, []))
        return max((sum(1 for other in times[index:] if other - start < 1.0) for index, start in enumerate(times)),
                   default=0)

    def close(self):
        self.stop.set()
        self.thread.join()
        self.pubsub.close()


def _worker(config, log_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(_FOREIGN)}
    env.update(DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=config["REDIS_URL"],
               REDIS_NAMESPACE=config["REDIS_NAMESPACE"], STORAGE_BACKEND="local", STORAGE_ROOT=config["STORAGE_ROOT"],
               STAGING_DIR=config["STAGING_DIR"], SECRET_KEY=config["SECRET_KEY"], INSTANCE_PATH=config["INSTANCE_PATH"],
               # The seed's trash is months old: the worker's first maintenance round would purge it (its
               # own benchmark, lifecycle.py) before the first bulk operation, 15 s into its timing.
               TRASH_RETENTION_DAYS="36500")
    return start_process([sys.executable, "worker.py", "--queues", "bulk"], env=env, log_path=log_path)


def _timed(client, csrf, data, operation_before):
    """POST the bulk action and wait for its operation to finish; (seconds, operation)."""
    started = time.perf_counter()
    answer = client.post("/media/bulk", data=data, headers={"X-CSRFToken": csrf, "HX-Request": "true"})
    if answer.status_code != 200:
        raise RuntimeError(f"bulk {data['action']} answered {answer.status_code}: {answer.get_data(as_text=True)[:300]}")
    while True:
        db.session.rollback()
        # The bulk operation this request started (the maintenance round may start one of its own).
        operation = db.session.scalar(sa.select(Operation).where(Operation.id > operation_before, Operation.kind == "bulk")
                                      .order_by(Operation.id.desc()).limit(1))
        if operation is not None and operation.is_finished:
            return time.perf_counter() - started, operation
        if time.perf_counter() - started > 120:
            raise RuntimeError(f"bulk {data['action']} did not finish in 2 minutes")
        time.sleep(0.005)


def run(config, label, report, rounds, folder):
    """Bulk add-tag and trash of FILES files on the database in `config` (already seeded)."""
    import re

    app = create_app(config)
    with app.app_context():
        ensure_user(EMAIL, PASSWORD, "Bulk Bench", "instructor")
        owner, _keys = _make_files(EMAIL, FILES, TAG)
        owner_id = owner.id
        # The seed's storage summaries are folded now, not by the worker's first maintenance round
        # while the first bulk operation waits behind it.
        stats.fold()
        db.session.remove()
    # Signed in with no app context held: each request gets its own, as under gunicorn. (Held, the login
    # page's CSRF token stayed in `g` after sign-in started a new session, and every POST was refused.)
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/media").get_data(as_text=True)).group(1)
    with app.app_context():
        worker = _worker(config, folder / f"bulk-worker-{label}.log")
        events = EventCounter(owner_id)
        rows = []
        try:
            time.sleep(2)  # the worker is up and listening
            selection = {"scope": "library", "all": "1", "tag": TAG}
            for round_number in range(1, rounds + 1):
                last = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Operation.id), 0)))
                tag_seconds, tagged = _timed(client, csrf, {**selection, "action": "add_tags",
                                                            "tags": f"round {round_number}"}, last)
                trash_seconds, trashed = _timed(client, csrf, {**selection, "action": "trash", "confirmed": "1"},
                                                tagged.id)
                restore_seconds, restored = _timed(client, csrf, {"scope": "trash", "all": "1", "action": "restore"},
                                                   trashed.id)
                for operation in (tagged, trashed, restored):
                    if (operation.status, operation.processed) != ("succeeded", FILES):
                        raise RuntimeError(f"{operation.title}: {operation.status}, {operation.processed} files")
                time.sleep(0.3)  # the last events arrive
                rows.append({"add_tag_s": tag_seconds, "trash_s": trash_seconds, "restore_s": restore_seconds,
                             "events_per_s": max(events.busiest_second(op.id) for op in (tagged, trashed, restored))})
                print(f"  round {round_number}/{rounds}: add tag {tag_seconds:.2f} s, trash {trash_seconds:.2f} s, "
                      f"restore {restore_seconds:.2f} s, busiest second {rows[-1]['events_per_s']} events", flush=True)
        finally:
            events.close()
            stop_process(worker)
            db.session.remove()
            db.engine.dispose()
    report.details[f"bulk_{label}"] = rows
    for key, name in (("add_tag_s", "bulk add tag"), ("trash_s", "bulk trash")):
        values = [row[key] for row in rows]
        report.add(Check(f"{name} of {FILES:,} files, request to done · {label}",
                         f"median {median(values):.2f} s, worst {max(values):.2f} s",
                         f"≤ {MAX_SECONDS:.0f} s", max(values) <= MAX_SECONDS, {"seconds": values}))
    busiest = max(row["events_per_s"] for row in rows)
    report.add(Check(f"progress events per second per operation · {label}", f"at most {busiest}",
                     f"≤ {MAX_EVENTS_PER_SECOND}", busiest <= MAX_EVENTS_PER_SECOND, {"busiest": busiest}))


def run_delete_requests(workspace, report):
    """Delete FILES stored files permanently on S3 (moto) and count the storage requests it takes."""
    import boto3

    from mediamgr.jobs.bulk import BulkRun

    from .transfer import BUCKET, CREDENTIALS, MotoServer

    folder = workspace.path("bulk-delete")
    with MotoServer(folder) as moto:
        boto3.client("s3", endpoint_url=moto.url, **CREDENTIALS).create_bucket(Bucket=BUCKET)
        database = f"sqlite:///{folder / 'delete.sqlite3'}"
        config = {**workspace.app_config(database, "bulk-delete"), "STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": moto.url,
                  "S3_BUCKET": BUCKET, "S3_ACCESS_KEY_ID": "bench", "S3_SECRET_ACCESS_KEY": "bench",
                  "S3_REGION": "us-east-1"}
        from .services import migrate
        migrate(config)
        app = create_app(config)
        with app.app_context():
            from mediamgr.bulk.actions import ACTIONS
            from mediamgr.bulk.selection import Selection
            from mediamgr.bulk.service import start_operation
            from mediamgr.storage import get_storage

            ensure_user(EMAIL, PASSWORD, "Bulk Bench", "instructor")
            owner, keys = _make_files(EMAIL, FILES, TAG, trashed=True)
            storage = get_storage()
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda key: storage.client.put_object(Bucket=BUCKET, Key=key, Body=b"%PDF-1.4 x"), keys))
            requests = []
            storage.client.meta.events.register(
                "before-send.s3", lambda request, **_: requests.append(f"{request.method} {request.url.split('?')[-1]}"))
            operation = start_operation(owner, ACTIONS["delete"], {}, Selection(scope="trash", all_matching=True), FILES)
            started = time.perf_counter()
            BulkRun(operation.id, operation.job_id).run()
            seconds = time.perf_counter() - started
            taken = list(requests)  # what the delete took; the check below is not counted
            left = storage.client.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)
            db.session.remove()
    kinds = {kind: taken.count(kind) for kind in sorted(set(taken))}
    print(f"  requests: {kinds}", flush=True)
    report.details["bulk_delete_requests"] = {"requests": len(taken), "kinds": kinds, "seconds": seconds,
                                              "objects_left": left}
    report.add(Check(f"storage requests to delete {FILES:,} stored files permanently (moto S3)",
                     f"{len(taken)} requests in {seconds:.1f} s; {left} objects left",
                     f"≤ {MAX_DELETE_REQUESTS}", len(taken) <= MAX_DELETE_REQUESTS and left == 0,
                     {"requests": len(taken)}))
