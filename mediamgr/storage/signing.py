"""Signed, expiring tokens for the local backend's file route.

Signing times are rounded down to a window so that a thumbnail keeps the same URL for a while
and the browser's cache can serve it again; a URL still lives at least ttl - window seconds.
"""
import functools
import time

from itsdangerous import BadSignature, URLSafeTimedSerializer

WINDOW_SECONDS = 300


class _WindowedSerializer(URLSafeTimedSerializer):
    def get_timestamp(self):
        now = int(time.time())
        return now - now % WINDOW_SECONDS


def _serializer(secret_key):
    return _WindowedSerializer(secret_key, salt="mediamgr-signed-file")


def sign_file_token(secret_key, payload, ttl):
    """A token for `payload`; the same one for the whole signing window (cached: a page of cards signs once)."""
    now = int(time.time())
    return _window_token(secret_key, tuple(sorted(payload.items())), ttl, now - now % WINDOW_SECONDS)


@functools.lru_cache(maxsize=20000)
def _window_token(secret_key, payload_items, ttl, _window):
    return _serializer(secret_key).dumps({**dict(payload_items), "ttl": ttl})


def read_file_token(secret_key, token):
    """The payload of a valid, unexpired token, else None."""
    try:
        payload, signed_at = _serializer(secret_key).loads(token, return_timestamp=True)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or time.time() > signed_at.timestamp() + payload.get("ttl", 0):
        return None
    return payload
