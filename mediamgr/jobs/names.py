"""The queues' names and how to reach one: below every job module, so any of them can queue work."""
from flask import current_app
from rq import Queue

from ..extensions import redis_connection

UPLOADS = "uploads"
BULK = "bulk"
MAINTENANCE = "maintenance"
# CPU-heavy video work (analysis, renditions, trims…): a queue of its own, so uploads and bulk
# operations never wait behind a transcode; `make run` gives it a worker of its own, and more can run
# on other hosts (`python worker.py --queues processing`, README).
PROCESSING = "processing"
ALL_QUEUES = (UPLOADS, BULK, MAINTENANCE, PROCESSING)
QUICK_QUEUES = (UPLOADS, BULK, MAINTENANCE)

def queue_name(name):
    return f"{current_app.config['REDIS_NAMESPACE']}:{name}"


def get_queue(name, connection=None):
    return Queue(queue_name(name), connection=connection or redis_connection.client)
