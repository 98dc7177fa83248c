"""The one publisher of progress events, and the latest state of each operation.

An event is a dict (see operation_event); it goes to the Redis channel of the operation's owner,
so it reaches whichever web process holds that user's websocket, and is kept as the
operation's latest state for pages and sockets that (re)connect later.
"""
import json
import logging
import threading
import time

import redis
from flask import current_app

from ..extensions import redis_connection
from .models import FINISHED

log = logging.getLogger(__name__)
STATE_TTL_SECONDS = 86400
MIN_INTERVAL_SECONDS = 0.1  # at most 10 events per second per operation (PROGRESS_MIN_INTERVAL overrides)


def channel_for(user_id, namespace=None):
    return f"{namespace or current_app.config['REDIS_NAMESPACE']}:progress:{user_id}"


def _state_key(operation_id, namespace=None):
    return f"{namespace or current_app.config['REDIS_NAMESPACE']}:operation:{operation_id}"


def operation_event(operation, **overrides):
    event = {"id": operation.id, "owner_id": operation.owner_id, "kind": operation.kind, "title": operation.title,
             "status": operation.status, "stage": operation.stage, "total": operation.total,
             "processed": operation.processed, "failed": operation.failed, "error": operation.error,
             "media_id": operation.media_id, "current": operation.current_item,
             "cancel_requested": operation.cancel_requested,
             # bulk work: which action (a finished trash offers Undo) and whether it was undone
             "action": (operation.details or {}).get("action"), "undone": bool((operation.details or {}).get("undone_by")),
             # a failed upload whose bytes cannot be read offers no Retry
             "retryable": (operation.details or {}).get("retryable", True),
             # an upload whose content the library held already: {"id", "name"} of that file
             "duplicate_of": (operation.details or {}).get("duplicate_of"),
             # a finished export: where to download it, and until when
             "download": (operation.details or {}).get("download"), "expires_at": (operation.details or {}).get("expires_at"),
             # a processing job: what became of its result, and the new file it made (Extract audio)
             "result": (operation.details or {}).get("result"), "new_media_id": (operation.details or {}).get("new_media_id")}
    event.update(overrides)
    return event


def publish(user_id, event):
    """Send one event to the user's channel and keep it as the operation's latest state."""
    _send(redis_connection.client, current_app.config["REDIS_NAMESPACE"], user_id, event)


def publish_operation(operation):
    """Tell the operation's owner where it stands now (its row as committed)."""
    publish(operation.owner_id, operation_event(operation))


def _send(client, namespace, user_id, event):
    data = json.dumps(event)
    try:
        pipe = client.pipeline(transaction=False)
        pipe.set(_state_key(event["id"], namespace), data, ex=STATE_TTL_SECONDS)
        pipe.publish(channel_for(user_id, namespace), data)
        pipe.execute()
    except redis.RedisError:
        log.warning("progress event for operation %s not delivered: Redis unavailable", event["id"])


def latest_states(operations):
    """operation id -> event, from the latest published state where it is newer than the database row."""
    if not operations:
        return {}
    try:
        stored = redis_connection.client.mget([_state_key(operation.id) for operation in operations])
    except redis.RedisError:
        stored = [None] * len(operations)
    states = {}
    for operation, raw in zip(operations, stored):
        event = json.loads(raw) if raw else None
        if event is None or (operation.status in FINISHED and event["status"] not in FINISHED):
            event = operation_event(operation)
        states[operation.id] = event
    return states


class ProgressReporter:
    """Publishes an operation's events, dropping those that come faster than 10 a second.

    An event that must not be lost (a new stage, the end) waits out the interval instead. It works
    from a snapshot of the row (sync) so that a long transfer holds no database transaction open,
    and it may be called from a transfer's own threads, which have no app context.
    """

    def __init__(self, operation):
        self._state = operation_event(operation)
        self._last = 0.0
        self._lock = threading.Lock()
        self._client = redis_connection.client
        self._namespace = current_app.config["REDIS_NAMESPACE"]
        self._interval = current_app.config.get("PROGRESS_MIN_INTERVAL", MIN_INTERVAL_SECONDS)

    def sync(self, operation):
        self._state = operation_event(operation)

    def report(self, must_deliver=True, **overrides):
        with self._lock:
            wait = self._last + self._interval - time.monotonic()
            if wait > 0:
                if not must_deliver:
                    return False
                time.sleep(wait)
            _send(self._client, self._namespace, self._state["owner_id"], {**self._state, **overrides})
            self._last = time.monotonic()
            return True
