"""Storage analytics, cleanup and export/import at scale (issue 12), on SQLite and PostgreSQL:

- /analytics for the instructor with 100,000 files and for an admin over 1,000,000 files (ten
  instructors): p50/p95 and SQL statements per request, after the seeding's deltas are folded
  (the fold's own time is reported);
- an orphan cleanup of 10,000 files: dry run and run (to the trash), then a permanent one on moto's
  S3 server with every storage request counted;
- the export of the instructor's 100,000 files (time, peak RSS growth) and its import into an empty
  database for the same owner (time; same owner: no copies).
"""
import hashlib
import json
import os
import time
from pathlib import Path
from datetime import timedelta

import psutil
import sqlalchemy as sa
from sqlalchemy import event

from mediamgr import create_app
from mediamgr.cli import ensure_user
from mediamgr.extensions import db

from .dataset import MAIN_EMAIL, Plan
from .report import Check, median, percentile
from .seed import PASSWORD, seed_database
from .services import migrate

INSTRUCTOR_FILES = 100_000
ALL_FILES = 1_000_000
ANALYTICS_P95_MS = 200.0
REQUESTS = 30
CLEANUP_FILES = 10_000
EXPORT_RSS_MB = 64.0
ADMIN = "analytics-admin@bench.example"
MAIN = MAIN_EMAIL  # user 1 of the seeded database: the instructor with 100,000 files


def _timed_pages(app, email, url, rounds):
    from .grid import LOGIN_TOKEN

    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
    client = app.test_client()
    token = LOGIN_TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token}).status_code == 302

    def timed():
        statements.clear()
        started = time.perf_counter()
        answer = client.get(url)
        took = (time.perf_counter() - started) * 1000
        assert answer.status_code == 200 and b"Storage analytics" in answer.data, answer.status_code
        return took, len(statements)

    p50s, p95s = [], []
    for _round in range(rounds):
        for _ in range(3):
            timed()
        times = [timed()[0] for _ in range(REQUESTS)]
        p50s.append(median(times))
        p95s.append(percentile(times, 0.95))
    return median(p50s), median(p95s), timed()[1], {"p50_ms": p50s, "p95_ms": p95s}


def run_analytics(workspace, report, label, dialect, database_uri, rounds):
    """Seed 1,000,000 files (the instructor's 100,000 and nine colleagues'), fold, time the page."""
    from mediamgr.library import stats

    config = workspace.app_config(database_uri, f"analytics-{dialect}")
    plan = Plan(main_files=INSTRUCTOR_FILES, other_users=9, other_files=ALL_FILES - INSTRUCTOR_FILES)
    seeded = seed_database(config, plan, dialect)
    app = create_app(config)
    app.config_for_bench = config  # the export runs in a process of its own, with the same settings
    with app.app_context():
        ensure_user(ADMIN, PASSWORD, "Analytics Admin", "admin")
        started = time.perf_counter()
        folded = stats.fold()
        fold_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = stats.fold()
        idle_fold_ms = (time.perf_counter() - started) * 1000
        db.session.remove()
    print(f"  seeded {seeded['media_files']:,} files in {seeded['fill_seconds']:.0f} s; "
          f"folded {folded:,} deltas in {fold_seconds:.1f} s (then {again} in {idle_fold_ms:.1f} ms)", flush=True)
    report.add(Check(f"fold of the seeding's deltas · {label}", f"{folded:,} deltas in {fold_seconds:.1f} s; "
                     f"a fold with nothing pending {idle_fold_ms:.1f} ms", "", None,
                     {"deltas": folded, "seconds": fold_seconds, "idle_ms": idle_fold_ms}))
    results = {}
    for who, email, files in (("instructor", MAIN, INSTRUCTOR_FILES), ("admin", ADMIN, seeded["media_files"])):
        p50, p95, queries, raw = _timed_pages(app, email, "/analytics", rounds)
        results[who] = {"p50": p50, "p95": p95, "queries": queries, **raw}
        report.add(Check(f"/analytics as {who} over {files:,} files · {label}",
                         f"p50 {p50:.1f} ms, p95 {p95:.1f} ms; {queries} SQL statements",
                         f"p95 ≤ {ANALYTICS_P95_MS:.0f} ms", p95 <= ANALYTICS_P95_MS, {"p95": p95}))
    report.details[f"analytics_{dialect}"] = {"seeded": seeded, "fold_seconds": fold_seconds, **results}
    run_export_import(workspace, report, label, dialect, app)


def _export_in_child(config, path):
    """In a process of its own (so its RSS starts from the app alone, not from the seeding): export the
    instructor's library to `path`; returns seconds, RSS before and peak RSS (sampled after each piece)."""
    from mediamgr.auth.models import User
    from mediamgr.library import portability

    process = psutil.Process()
    with create_app(config).app_context():
        owner = db.session.scalar(sa.select(User).where(User.email == MAIN))
        portability.file_count(owner.id)  # connection and statements warmed up
        before = peak = process.memory_info().rss
        started = time.perf_counter()
        with open(path, "w", encoding="utf-8") as out:
            for piece in portability.export_json(owner):
                out.write(piece)
                peak = max(peak, process.memory_info().rss)
        seconds = time.perf_counter() - started
        db.session.remove()
    return {"seconds": seconds, "rss_before": before, "rss_peak": peak}


def run_export_import(workspace, report, label, dialect, app):
    """Export the instructor's 100,000 files (peak RSS growth), import them into an empty database."""
    import multiprocessing

    path = workspace.path(f"export-{dialect}") / "library.json"
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        measured = pool.apply(_export_in_child, (dict(app.config_for_bench), str(path)))
    seconds = measured["seconds"]
    growth = (measured["rss_peak"] - measured["rss_before"]) / 2**20
    size = path.stat().st_size
    report.add(Check(f"export of {INSTRUCTOR_FILES:,} files (JSON) · {label}",
                     f"{seconds:.1f} s, {size / 2**20:.0f} MiB written; peak RSS growth {growth:.1f} MiB "
                     f"(from {measured['rss_before'] / 2**20:.0f} MiB, a process of its own)",
                     f"RSS growth ≤ {EXPORT_RSS_MB:.0f} MiB", growth <= EXPORT_RSS_MB,
                     {"seconds": seconds, "rss_growth_mib": growth, "bytes": size}))

    # The same owner in an empty database of its own: the import's rows, tags, courses in one transaction.
    if dialect == "sqlite":
        target_uri = f"sqlite:///{workspace.root / 'import.sqlite3'}"
        _import_into(workspace, report, label, dialect, target_uri, path)
    else:
        from .services import postgres_schema
        with postgres_schema(os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")) as (uri, _):
            _import_into(workspace, report, label, dialect, uri, path)


def _import_into(workspace, report, label, dialect, uri, path):
    from mediamgr.auth.models import User
    from mediamgr.library import portability

    path = Path(path)
    config = workspace.app_config(uri, f"import-{dialect}")
    migrate(config)
    with create_app(config).app_context():
        ensure_user(MAIN, PASSWORD, "Bench Instructor", "instructor")  # user id 1, as in the export: the same keys
        owner = db.session.scalar(sa.select(User).where(User.email == MAIN))
        started = time.perf_counter()
        document = json.loads(path.read_text(encoding="utf-8"))
        parsed = time.perf_counter() - started
        result = portability.import_library(owner, document)
        seconds = time.perf_counter() - started
        count = db.session.scalar(sa.select(sa.func.count()).select_from(sa.table("media_files")))
        db.session.remove()
    report.add(Check(f"import of the same {len(result.files):,} files (same owner) · {label}",
                     f"{seconds:.1f} s in all ({parsed:.1f} s reading the JSON); {count:,} files, "
                     f"{len(result.courses):,} courses, {result.links:,} links; {len(result.copies)} copies",
                     "", None, {"seconds": seconds, "parse_seconds": parsed}))


def run_cleanup(workspace, report, label, dialect, database_uri):
    """An orphan cleanup of 10,000 files: dry run, run to the trash; then a permanent one on moto S3."""
    import boto3

    from mediamgr.admin import cleanups
    from mediamgr.auth.models import User
    from mediamgr.library import cleanup
    from mediamgr.library.models import MediaFile
    from mediamgr.storage import content_key, get_storage
    from mediamgr.timeutil import utcnow

    from .transfer import BUCKET, CREDENTIALS, MotoServer

    folder = workspace.path(f"cleanup-{dialect}")
    with MotoServer(folder) as moto:
        boto3.client("s3", endpoint_url=moto.url, **CREDENTIALS).create_bucket(Bucket=BUCKET)
        config = {**workspace.app_config(database_uri, f"cleanup-{dialect}"), "STORAGE_BACKEND": "s3",
                  "S3_ENDPOINT_URL": moto.url, "S3_BUCKET": BUCKET, "S3_ACCESS_KEY_ID": "bench",
                  "S3_SECRET_ACCESS_KEY": "bench", "S3_REGION": "us-east-1", "BULK_BATCH_SIZE": 1000}
        migrate(config)
        with create_app(config).app_context():
            ensure_user(ADMIN, PASSWORD, "Cleanup Admin", "admin")
            ensure_user(MAIN, PASSWORD, "Bench Instructor", "instructor")
            admin = db.session.scalar(sa.select(User).where(User.email == ADMIN))
            owner = db.session.scalar(sa.select(User).where(User.email == MAIN))
            long_ago = utcnow() - timedelta(days=200)
            figures = {}
            for permanent in (False, True):
                rows = []
                for number in range(CLEANUP_FILES):
                    name = f"{'old' if permanent else 'stale'} handout {number:05d}.pdf"
                    sha = hashlib.sha256(f"cleanup-{permanent}-{number}".encode()).hexdigest()
                    rows.append({"owner_id": owner.id, "name": name, "name_key": name, "search_text": name,
                                 "original_name": name, "kind": "document", "mime_type": "application/pdf",
                                 "size_bytes": 1000 + number, "sha256": sha, "storage_key": content_key(owner.id, sha),
                                 "category": "", "description": "", "status": "ready", "created_at": long_ago,
                                 "updated_at": long_ago, "ready_at": long_ago})
                for start in range(0, len(rows), 2000):
                    db.session.execute(sa.insert(MediaFile), rows[start:start + 2000])
                db.session.commit()
                storage = get_storage()
                if permanent:
                    from concurrent.futures import ThreadPoolExecutor
                    with ThreadPoolExecutor(16) as pool:
                        list(pool.map(lambda row: storage.client.put_object(Bucket=BUCKET, Key=row["storage_key"],
                                                                            Body=b"%PDF-1.4 x"), rows))
                requests = []

                def count(request, **_kwargs):
                    requests.append(request.method)
                storage.client.meta.events.register("before-send.s3", count)
                criteria = cleanup.Criteria.checked("orphans", older_than=90, orphans="both", permanent=permanent)
                started = time.perf_counter()
                run = cleanup.dry_run(admin, criteria)
                dry_seconds = time.perf_counter() - started
                started = time.perf_counter()
                cleanups.run_here(run, admin)
                run_seconds = time.perf_counter() - started
                run = db.session.get(cleanup.CleanupRun, run.id)
                figures[permanent] = {"dry_seconds": dry_seconds, "run_seconds": run_seconds, "files": run.files,
                                      "removed": run.removed, "requests": len(requests)}
                storage.client.meta.events.unregister("before-send.s3", count)
            db.session.remove()
    report.details[f"cleanup_{dialect}"] = figures
    for permanent, figure in figures.items():
        how = "deleted permanently (moto S3)" if permanent else "to the trash"
        report.add(Check(f"orphan cleanup of {CLEANUP_FILES:,} files, {how} · {label}",
                         f"dry run {figure['dry_seconds']:.2f} s ({figure['files']:,} listed); run {figure['run_seconds']:.1f} s "
                         f"({figure['removed']:,} removed); {figure['requests']} storage requests",
                         "", None, figure))
