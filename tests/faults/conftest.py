"""The fault suite (`make faults`; part of `make test`): one scaled-out set per module (cluster.py)."""
import psycopg
import pytest

from helpers import PG_DSN, unavailable

from cluster import Cluster



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
