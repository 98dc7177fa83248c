"""The trash purge and versions: the purge at the end of the recovery period of 10,000 expired stored
files, end to end on moto's S3 server (time, and every storage request it makes), on SQLite and
PostgreSQL; and the details dialog of a file with 50 versions (p50/p95 and SQL statements per request,
against a file with two versions: the count must not grow with the versions)."""
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import event

from mediamgr import create_app
from mediamgr.cli import ensure_user
from mediamgr.extensions import db

from .report import Check, median, percentile
from .services import migrate

PURGE_FILES = 10_000
PURGE_MAX_SECONDS = 10.0
PURGE_MAX_REQUESTS = 11
VERSIONS = 50
DIALOG_P95_MS = 50.0
DIALOG_REQUESTS = 50
EMAIL, PASSWORD = "lifecycle@bench.example", "bench-password-1"


def _user():
    from mediamgr.auth.models import User
    ensure_user(EMAIL, PASSWORD, "Lifecycle Bench", "instructor")
    return db.session.scalar(sa.select(User).where(User.email == EMAIL))


def _expired_files(owner, count):
    """`count` stored files of `owner` in the trash for 40 days (rows only); returns their keys."""
    from mediamgr.library.models import MediaFile
    from mediamgr.storage import content_key
    from mediamgr.timeutil import utcnow

    long_ago = utcnow() - timedelta(days=40)
    rows = []
    for number in range(count):
        name = f"old handout {number:05d}.pdf"
        sha = hashlib.sha256(f"purge-{number}".encode()).hexdigest()
        rows.append({"owner_id": owner.id, "name": name, "name_key": name, "search_text": name, "original_name": name,
                     "kind": "document", "mime_type": "application/pdf", "size_bytes": 1000 + number, "sha256": sha,
                     "storage_key": content_key(owner.id, sha), "category": "", "description": "", "status": "deleted",
                     "created_at": long_ago, "updated_at": long_ago, "ready_at": long_ago, "deleted_at": long_ago})
    for start in range(0, count, 2000):
        db.session.execute(sa.insert(MediaFile), rows[start:start + 2000])
    db.session.commit()
    return [row["storage_key"] for row in rows]


def run_purge(workspace, report, label, database_uri, dialect):
    import boto3

    from mediamgr.jobs.purge import purge_expired_trash
    from mediamgr.library.models import MediaFile
    from mediamgr.storage import get_storage

    from .transfer import BUCKET, CREDENTIALS, MotoServer

    folder = workspace.path(f"purge-{dialect}")
    with MotoServer(folder) as moto:
        boto3.client("s3", endpoint_url=moto.url, **CREDENTIALS).create_bucket(Bucket=BUCKET)
        config = {**workspace.app_config(database_uri, f"purge-{dialect}"), "STORAGE_BACKEND": "s3",
                  "S3_ENDPOINT_URL": moto.url, "S3_BUCKET": BUCKET, "S3_ACCESS_KEY_ID": "bench",
                  "S3_SECRET_ACCESS_KEY": "bench", "S3_REGION": "us-east-1", "BULK_BATCH_SIZE": 1000}
        migrate(config)
        with create_app(config).app_context():
            owner = _user()
            keys = _expired_files(owner, PURGE_FILES)
            storage = get_storage()
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda key: storage.client.put_object(Bucket=BUCKET, Key=key, Body=b"%PDF-1.4 x"), keys))
            requests = []
            storage.client.meta.events.register(
                "before-send.s3", lambda request, **_: requests.append(f"{request.method} {request.url.split('?')[-1]}"))
            started = time.perf_counter()
            purged = purge_expired_trash()
            seconds = time.perf_counter() - started
            taken = list(requests)
            left = storage.client.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0)
            rows_left = db.session.scalar(sa.select(sa.func.count()).select_from(MediaFile))
            db.session.remove()
    kinds = {kind: taken.count(kind) for kind in sorted(set(taken))}
    print(f"  requests: {kinds}", flush=True)
    report.details[f"purge_{dialect}"] = {"seconds": seconds, "requests": len(taken), "kinds": kinds,
                                          "purged": purged, "objects_left": left, "rows_left": rows_left}
    report.add(Check(f"purge of {PURGE_FILES:,} expired files, end to end · {label}",
                     f"{purged:,} purged in {seconds:.1f} s; {len(taken)} storage requests; "
                     f"{left} objects and {rows_left} rows left",
                     f"≤ {PURGE_MAX_SECONDS:.0f} s, ≤ {PURGE_MAX_REQUESTS} requests",
                     seconds <= PURGE_MAX_SECONDS and len(taken) <= PURGE_MAX_REQUESTS and left == 0 and not rows_left,
                     {"seconds": seconds, "requests": len(taken)}))


def _file_with_versions(owner, name, versions):
    from mediamgr.library.models import MediaFile, MediaVersion
    from mediamgr.storage import content_key, thumbnail_key
    from mediamgr.timeutil import utcnow

    now = utcnow()
    shas = [hashlib.sha256(f"{name}-{number}".encode()).hexdigest() for number in range(versions)]
    media = MediaFile(owner_id=owner.id, name=name, name_key=name.lower(), search_text=name.lower(), original_name=name,
                      kind="video", mime_type="video/mp4", size_bytes=10_000_000, sha256=shas[-1],
                      storage_key=content_key(owner.id, shas[-1]), thumbnail_key=thumbnail_key(owner.id, shas[-1]),
                      duration_seconds=600, width=1280, height=720, status="ready", ready_at=now)
    db.session.add(media)
    db.session.flush()
    db.session.execute(sa.insert(MediaVersion), [
        {"media_id": media.id, "owner_id": owner.id, "number": number + 1, "status": "ready",
         "original_name": f"take {number + 1}.mp4", "kind": "video", "mime_type": "video/mp4",
         "size_bytes": 10_000_000 + number, "sha256": sha, "storage_key": content_key(owner.id, sha),
         "thumbnail_key": thumbnail_key(owner.id, sha), "duration_seconds": 600 + number, "width": 1280,
         "height": 720, "uploaded_by_id": owner.id, "created_at": now, "current_since": now}
        for number, sha in enumerate(shas)])
    db.session.commit()
    return media.id


def run_versions_dialog(workspace, report, rounds):
    folder = workspace.path("versions")
    config = workspace.app_config(f"sqlite:///{folder / 'versions.sqlite3'}", "versions")
    migrate(config)
    app = create_app(config)
    with app.app_context():
        owner = _user()
        many = _file_with_versions(owner, "Lecture with 50 takes.mp4", VERSIONS)
        few = _file_with_versions(owner, "Lecture with 2 takes.mp4", 2)
        db.session.remove()
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    from .grid import LOGIN_TOKEN
    token = LOGIN_TOKEN.search(page).group(1)
    assert client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}).status_code == 302

    def timed(media_id):
        statements.clear()
        started = time.perf_counter()
        answer = client.get(f"/media/{media_id}", headers={"HX-Request": "true"})
        took = (time.perf_counter() - started) * 1000
        assert answer.status_code == 200 and b"Version 2" in answer.data, answer.status_code
        return took, len(statements)

    p50s, p95s = [], []
    for _round in range(rounds):
        for _ in range(3):
            timed(many)
        times = [timed(many)[0] for _ in range(DIALOG_REQUESTS)]
        p50s.append(median(times))
        p95s.append(percentile(times, 0.95))
    queries_many, queries_few = timed(many)[1], timed(few)[1]
    p50, p95 = median(p50s), median(p95s)
    report.details["versions_dialog"] = {"p50_ms": p50s, "p95_ms": p95s, "queries": [queries_few, queries_many]}
    report.add(Check(f"details dialog of a file with {VERSIONS} versions (SQLite)",
                     f"p50 {p50:.1f} ms, p95 {p95:.1f} ms; {queries_many} SQL statements (2 versions: {queries_few})",
                     f"p95 ≤ {DIALOG_P95_MS:.0f} ms, statements constant",
                     p95 <= DIALOG_P95_MS and queries_many == queries_few, {"p95": p95}))
