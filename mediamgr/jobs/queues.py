"""Queue names and enqueue presets: the one place that knows how each kind of job is queued."""
import redis
from flask import current_app
from rq import Queue, Retry
from rq.job import Callback

from ..extensions import db, redis_connection

UPLOADS = "uploads"
BULK = "bulk"
MAINTENANCE = "maintenance"
ALL_QUEUES = (UPLOADS, BULK, MAINTENANCE)
BACKGROUND_UNAVAILABLE = "The background service is unavailable right now. Your file is kept; press Retry in a moment."


def queue_name(name):
    return f"{current_app.config['REDIS_NAMESPACE']}:{name}"


def get_queue(name, connection=None):
    return Queue(queue_name(name), connection=connection or redis_connection.client)


def enqueue_upload_processing(operation):
    """Queue the job that stores, probes and thumbnails an upload; call after its rows are committed."""
    intervals = current_app.config.get("UPLOAD_RETRY_INTERVALS", [5, 30, 120])
    try:
        job = get_queue(UPLOADS).enqueue(
            "mediamgr.jobs.ingest.process_upload", operation.id,
            retry=Retry(max=len(intervals), interval=intervals), job_timeout=6 * 3600, result_ttl=3600, failure_ttl=7 * 86400,
            on_failure=Callback("mediamgr.jobs.ingest.upload_job_failed"),
            description=f"process upload operation {operation.id}")
    except redis.RedisError:
        from .ingest import mark_upload_failed
        mark_upload_failed(operation.id, BACKGROUND_UNAVAILABLE)
        return None
    operation.job_id = job.id
    db.session.commit()
    return job
