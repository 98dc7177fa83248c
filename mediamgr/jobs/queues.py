"""Enqueue presets (the queues themselves are jobs.names): the one place that knows how each kind of job is queued, and what
the user is told when the queue cannot take it."""
import redis
from flask import current_app
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Callback, Job

from ..extensions import db, redis_connection
from .ingest import mark_upload_failed
from .names import BULK, MAINTENANCE, UPLOADS, get_queue

LIVE_JOB_STATES = ("queued", "started", "scheduled", "deferred")
UPLOAD_JOB_TIMEOUT = 6 * 3600  # moving 5 GiB to B2 on a slow link; RQ kills the horse past it

# What the user reads when Redis cannot take a job: each says what was kept and what to do.
UPLOAD_NOT_QUEUED = "The background service is unavailable right now. Your file is kept; press Retry in a moment."
BULK_NOT_STARTED = ("The background service is unavailable right now, so nothing was changed. "
                    "Try again in a moment.")
RETRY_NOT_QUEUED = "The background service is unavailable right now. Try again in a moment."


class BackgroundUnavailable(RuntimeError):
    """Redis cannot take the job; the message is for the user."""


def enqueue_upload_processing(operation, job_id=None, fail_when_unavailable=True):
    """Queue the job that stores, probes and thumbnails an upload; call after its rows are committed.
    When Redis is down the upload is marked Failed with UPLOAD_NOT_QUEUED (Retry queues it again),
    or, with `fail_when_unavailable` False (a rescue), left as it is for the next round."""
    intervals = current_app.config.get("UPLOAD_RETRY_INTERVALS", [5, 30, 120])
    try:
        job = get_queue(UPLOADS).enqueue(
            "mediamgr.jobs.ingest.process_upload", operation.id, job_id=job_id,
            retry=Retry(max=len(intervals), interval=intervals), job_timeout=UPLOAD_JOB_TIMEOUT, result_ttl=3600,
            failure_ttl=7 * 86400, on_failure=Callback("mediamgr.jobs.ingest.upload_job_failed"),
            description=f"process upload operation {operation.id}")
    except redis.RedisError:
        if fail_when_unavailable:
            mark_upload_failed(operation.id, UPLOAD_NOT_QUEUED)
        return None
    operation.job_id = job.id
    db.session.commit()
    return job


def enqueue_bulk(operation, message=BULK_NOT_STARTED):
    """Queue the bulk job of an operation (its job id is already on the row); BackgroundUnavailable
    with `message` when Redis cannot take it."""
    try:
        get_queue(BULK).enqueue(
            "mediamgr.jobs.bulk.run_bulk", operation.id, job_id=operation.job_id, job_timeout=24 * 3600,
            result_ttl=3600, failure_ttl=7 * 86400, on_failure=Callback("mediamgr.jobs.bulk.bulk_job_failed"),
            description=f"bulk operation {operation.id}: {operation.title}")
    except redis.RedisError as error:
        raise BackgroundUnavailable(message) from error


def enqueue_export(operation):
    """Queue a large library's export (jobs.exports); BackgroundUnavailable when Redis cannot take it."""
    try:
        get_queue(BULK).enqueue("mediamgr.jobs.exports.run_export", operation.id, job_id=operation.job_id,
                                job_timeout=6 * 3600, result_ttl=3600, failure_ttl=7 * 86400,
                                description=f"export {operation.id}: {operation.title}")
    except redis.RedisError as error:
        raise BackgroundUnavailable("The export could not be started: background work is unavailable right now. "
                                    "Try again in a moment.") from error


def enqueue_archive(operation):
    """Queue the zip of a large selection (jobs.archives); BackgroundUnavailable when Redis cannot take it."""
    try:
        get_queue(BULK).enqueue("mediamgr.jobs.archives.run_archive", operation.id, job_id=operation.job_id,
                                job_timeout=6 * 3600, result_ttl=3600, failure_ttl=7 * 86400,
                                description=f"archive {operation.id}: {operation.title}")
    except redis.RedisError as error:
        raise BackgroundUnavailable("The zip could not be started: background work is unavailable right now. "
                                    "Try again in a moment.") from error


def enqueue_document_pages(media):
    """Queue the page images of a stored PDF that has none (uploaded before they were made, or its
    content was replaced or restored), once an hour at most for the same content; False when Redis
    cannot take it (the details say the preview is not ready)."""
    media_id = media.id
    try:
        if not redis_connection.client.set(f"{current_app.config['REDIS_NAMESPACE']}:pages-queued:{media_id}:{media.sha256}",
                                           1, nx=True, ex=3600):
            return True
        get_queue(UPLOADS).enqueue("mediamgr.jobs.previews.make_document_pages", media_id, job_timeout=600,
                                   result_ttl=600, failure_ttl=86400, description=f"page images of media {media_id}")
    except redis.RedisError:
        return False
    return True


def enqueue_deletions():
    """Remove the stored bytes of what was just deleted, in a worker: a web request never waits on
    storage. When Redis cannot take the job, the next maintenance round removes them."""
    try:
        get_queue(MAINTENANCE).enqueue("mediamgr.jobs.maintenance.remove_deleted_bytes", job_timeout=600,
                                       result_ttl=60, failure_ttl=86400, description="remove deleted bytes")
    except redis.RedisError:
        pass


def job_is_live(job_id):
    """Whether RQ still has the job waiting or running (True when Redis cannot tell)."""
    try:
        return Job.fetch(job_id, connection=redis_connection.client).get_status() in LIVE_JOB_STATES
    except NoSuchJobError:
        return False
    except redis.RedisError:
        return True
