"""Times are stored as naive UTC in every database; this is the one clock."""
from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)
