"""Redis restarts empty while uploads wait for a worker: their jobs are gone, but the files are not.
The maintenance round queues them again from their staged bytes (each processed once), and until
then the file's page offers Retry. A real redis-server, stopped and started again without its data."""
import time

import pytest
import sqlalchemy as sa

from mediamgr.extensions import db
from mediamgr.jobs.maintenance import run_maintenance
from mediamgr.library.models import MediaEvent, MediaFile
from mediamgr.progress.models import Operation

from helpers import Browser, run_jobs

pytestmark = pytest.mark.both_databases


@pytest.fixture
def restartable(own_redis):
    own_redis.app.config["BULK_STALE_SECONDS"] = 1
    return own_redis.app, own_redis.restart_empty


def statuses():
    db.session.rollback()
    return sorted(db.session.scalars(sa.select(MediaFile.status)).all())


def test_uploads_whose_jobs_vanished_are_queued_again_by_the_maintenance_round(restartable, samples):
    own, restart_empty = restartable
    ada = Browser(own).sign_in("ada@example.com")
    for number in range(3):
        assert ada.upload(f"slide-{number}.png", samples.png_bytes(64 + number, 48)).status_code == 201
    restart_empty()
    time.sleep(1.2)  # past BULK_STALE_SECONDS: stuck, not merely waiting its turn
    run_jobs(own)  # a worker finds nothing to do: the jobs are gone
    assert statuses() == ["processing"] * 3
    media = db.session.scalars(sa.select(MediaFile)).first()
    assert "Retry processing" in ada.get(f"/media/{media.id}", htmx=True).get_data(as_text=True)

    run_maintenance()
    run_maintenance()  # a second round (another worker's, say) queues nothing twice
    run_jobs(own)
    assert statuses() == ["ready"] * 3
    ready_events = db.session.scalar(sa.select(sa.func.count()).select_from(MediaEvent)
                                     .where(MediaEvent.action == "ready"))
    operations = db.session.scalars(sa.select(Operation)).all()
    assert all(op.status == "succeeded" and op.details["recoveries"] == 1 for op in operations)
    assert ready_events in (0, 3)  # (whether Ready is a history event or not, never twice)


def test_retry_mends_a_stuck_upload_at_once(restartable, samples):
    own, restart_empty = restartable
    ada = Browser(own).sign_in("ada@example.com")
    ada.upload("handout.png", samples.png_bytes())
    restart_empty()
    time.sleep(1.2)
    media = db.session.scalars(sa.select(MediaFile)).one()
    response = ada.post(f"/media/{media.id}/retry")
    assert response.status_code == 200, response.get_data(as_text=True)
    run_jobs(own)
    assert statuses() == ["ready"]
