"""The fault suite (`make faults`; part of `make test`): one scaled-out set per module (cluster.py). A
failed test prints the end of every process's log and the machine's load."""
import os

import psycopg
import pytest

from helpers import PG_DSN, unavailable

from cluster import Cluster


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.fault_test_failed = report.failed
    return report


@pytest.fixture(autouse=True)
def logs_on_failure(request, cluster):
    yield
    if getattr(request.node, "fault_test_failed", False):
        print(f"load average: {os.getloadavg()}")
        for path in sorted(cluster.logs.glob("*.log")):
            print(f"----- {path.name} (end) -----\n{path.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, password_hash):
    try:
        psycopg.connect(PG_DSN, connect_timeout=2).close()
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL is not reachable at {PG_DSN}: the fault suite needs it ({error})")
    cluster = Cluster(tmp_path_factory.mktemp("faults"), password_hash)
    try:
        yield cluster
    finally:
        cluster.close()
