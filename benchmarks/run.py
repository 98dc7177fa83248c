"""`make bench` (python -m benchmarks.run): seed big libraries and time the grid on SQLite and
PostgreSQL, then upload ingest over HTTP and transfers to S3, the video features' costs, then resilience (1,000 open progress
sockets, decompression bombs, recovery from each fault); prints PASS/MISS against each target,
a markdown summary, and saves everything as JSON under benchmarks/results/."""
import argparse
import os
import sys
import time

import psycopg

from . import (bombs, bulk, courses, duplicates, faults, grid, ingest, lifecycle, resumable, sockets, storage, transfer,
               video)
from .dataset import Plan
from .payload import make_payload
from .report import Check, Report
from .seed import seed_database
from .services import DEFAULT_PG_DSN, Workspace, postgres_schema

FULL_SEED_ROWS = 300_000


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000,
                        help="files of the benchmarked instructor (others get twice as many in all)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every measurement; medians are reported")
    parser.add_argument("--requests", type=int, default=50, help="timed grid requests per scenario and round")
    parser.add_argument("--scenario-budget", type=float, default=grid.SCENARIO_BUDGET_SECONDS, metavar="SECONDS",
                        help="a grid scenario slower than this per round is timed fewer times (at least "
                             f"{grid.MIN_REQUESTS}); 0 times every scenario --requests times")
    parser.add_argument("--payload-mib", type=int, default=1024, help="size of the ingest and transfer file")
    parser.add_argument("--pg-dsn", default=os.environ.get("TEST_POSTGRES_DSN", DEFAULT_PG_DSN))
    parser.add_argument("--fault-interval", type=int, default=faults.INTERVAL, metavar="SECONDS",
                        help="MAINTENANCE_INTERVAL (and BULK_STALE_SECONDS) of the fault part's scaled-out set")
    for part in ("sqlite", "postgres", "grid", "courses", "bulk", "ingest", "transfer", "resumable", "sockets",
                 "bombs", "faults", "lifecycle", "storage", "video"):
        parser.add_argument(f"--skip-{part}", action="store_true", help=f"leave out the {part} part")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a target is missed")
    return parser.parse_args(argv)


def bench_database(workspace, report, options, label, dialect, database_uri):
    """Seed one database, then time the grid on it."""
    if not (options.skip_grid and options.skip_courses and options.skip_bulk):
        seed_and_browse(workspace, report, options, label, dialect, database_uri)
    bench_more(workspace, report, options, label, dialect)


def seed_and_browse(workspace, report, options, label, dialect, database_uri):
    report.section(f"{label}: seed")
    plan = Plan.for_rows(options.rows)
    config = workspace.app_config(database_uri, dialect)
    seeded = seed_database(config, plan, dialect)
    report.details[f"seed_{dialect}"] = seeded
    full = options.rows >= 100_000
    report.add(Check(f"seed · {label}",
                     f"{seeded['media_files']:,} media rows ({seeded['in_trash']:,} in trash), "
                     f"{seeded['media_tags']:,} tag links, {seeded['tags']:,} tags in {seeded['fill_seconds']:.0f} s "
                     f"+ analyze {seeded['analyze_seconds']:.1f} s",
                     f"≥ {FULL_SEED_ROWS:,} media rows" + ("" if full else " (not checked: --rows)"),
                     seeded["media_files"] >= FULL_SEED_ROWS if full else None, seeded))
    if not options.skip_grid:
        report.section(f"{label}: GET /media/grid as the instructor with {options.rows:,} files")
        grid.GridBenchmark(config, label, dialect, options.rounds, options.requests, options.scenario_budget).run(report)
    if not options.skip_courses:
        report.section(f"{label}: course editor ({courses.BIG_CHAPTERS} chapters × {courses.BIG_ITEMS} items) "
                       "and reorder requests")
        courses.run(config, label, report, options.rounds)
    if not options.skip_bulk:
        report.section(f"{label}: bulk add tag and trash of {bulk.FILES:,} files (worker process)")
        bulk.run(config, label, report, options.rounds, workspace.path("bulk"))


def bench_more(workspace, report, options, label, dialect):
    """The parts with databases of their own: the trash purge, and storage analytics, cleanup, export."""
    if not options.skip_lifecycle:
        report.section(f"{label}: trash purge of {lifecycle.PURGE_FILES:,} expired files (moto S3)")
        if dialect == "sqlite":  # a database of its own: the seeded trash must not join in
            lifecycle.run_purge(workspace, report, label, f"sqlite:///{workspace.root / 'purge.sqlite3'}", dialect)
        else:
            with postgres_schema(options.pg_dsn) as (purge_uri, _schema):
                lifecycle.run_purge(workspace, report, label, purge_uri, dialect)
    if not options.skip_storage:
        report.section(f"{label}: /analytics over {storage.ALL_FILES:,} files, export and import of "
                       f"{storage.INSTRUCTOR_FILES:,}, cleanup of {storage.CLEANUP_FILES:,}")
        if dialect == "sqlite":
            storage.run_analytics(workspace, report, label, dialect, f"sqlite:///{workspace.root / 'analytics.sqlite3'}",
                                  options.rounds)
            storage.run_cleanup(workspace, report, label, dialect, f"sqlite:///{workspace.root / 'cleanup.sqlite3'}")
        else:
            with postgres_schema(options.pg_dsn) as (analytics_uri, _schema):
                storage.run_analytics(workspace, report, label, dialect, analytics_uri, options.rounds)
            with postgres_schema(options.pg_dsn) as (cleanup_uri, _schema):
                storage.run_cleanup(workspace, report, label, dialect, cleanup_uri)


def bench_databases(workspace, report, options):
    if not options.skip_sqlite:
        sqlite_url = f"sqlite:///{workspace.root / 'library.sqlite3'}"
        bench_database(workspace, report, options, "SQLite", "sqlite", sqlite_url)
    if options.skip_postgres:
        return
    try:
        psycopg.connect(options.pg_dsn, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        report.section("PostgreSQL")
        report.note(f"PostgreSQL is not reachable at {options.pg_dsn}: its part is skipped "
                    f"({' '.join(str(error).split())[:200]})")
        return
    with postgres_schema(options.pg_dsn) as (url, _schema):
        bench_database(workspace, report, options, "PostgreSQL", "postgresql", url)


def bench_transfers(workspace, report, options):
    report.section(f"payload: {options.payload_mib:,} MiB file")
    started = time.perf_counter()
    payload = make_payload(workspace.path("payload"), options.payload_mib)
    print(f"  written in {time.perf_counter() - started:.1f} s", flush=True)
    if not options.skip_ingest:
        report.section("ingest: POST /media/upload to gunicorn over HTTP")
        ingest.run(workspace, payload, report, options.rounds)
    if not options.skip_transfer:
        report.section("transfer to S3 (moto server)")
        transfer.run(workspace, payload, report, options.rounds)
    if not options.skip_resumable:
        report.section("resumable upload (tus) cut at 50% and resumed")
        resumable.run(workspace, payload, report)
    if not options.skip_bulk:
        report.section(f"bulk delete of {bulk.FILES:,} stored files on S3 (moto server)")
        bulk.run_delete_requests(workspace, report)
    if not options.skip_lifecycle:
        report.section("a duplicate chosen in the page, caught before its bytes are sent")
        duplicates.run_page_check(workspace, payload, report)
        duplicates.run_tus_detection(workspace, payload, report)
        report.section("replace of a video against a fresh upload (gunicorn and a worker)")
        duplicates.run_replace(workspace, payload, report, options.rounds)


def bench_lifecycle(workspace, report, options):
    if not options.skip_lifecycle:
        report.section(f"details dialog of a file with {lifecycle.VERSIONS} versions")
        lifecycle.run_versions_dialog(workspace, report, options.rounds)


def bench_video(workspace, report, options):
    if not options.skip_video:
        report.section("video: scene detection, quality analysis and web rendition of 1080p on one core; "
                       "worker memory in a 1 GiB transcode")
        video.run(workspace, report, options.rounds)


def bench_resilience(workspace, report, options):
    if not options.skip_sockets:
        report.section(f"{sockets.SOCKETS:,} progress sockets open on one web host (page process + websocket process)")
        sockets.run(workspace, report, options.rounds)
    if not options.skip_bombs:
        report.section("decompression bombs, each in a worker of its own")
        bombs.run(workspace, report)
    if not options.skip_faults:
        report.section(f"recovery from each fault (tests/faults, MAINTENANCE_INTERVAL {options.fault_interval} s)")
        faults.run(workspace, report, options.rounds, options.fault_interval)


def main(argv=None):
    options = parse_args(argv)
    report = Report(vars(options))
    workspace = Workspace()
    print(f"mediamgr benchmarks; workspace {workspace.root}", flush=True)
    try:
        bench_databases(workspace, report, options)
        if not (options.skip_ingest and options.skip_transfer and options.skip_resumable and options.skip_bulk
                and options.skip_lifecycle):
            bench_transfers(workspace, report, options)
        bench_lifecycle(workspace, report, options)
        bench_video(workspace, report, options)
        bench_resilience(workspace, report, options)
    finally:
        workspace.close()
        report.print_summary()
        report.save()
    missed = any(check.passed is False for check in report.checks)
    return 1 if options.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
