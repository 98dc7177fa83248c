"""Signed, expiring tokens for the local backend's file route.

Signing times are rounded down to a window so that a thumbnail keeps the same URL for a while
and the browser's cache can serve it again. The window is a tenth of the URL's lifetime (at most
five minutes), so a fresh URL always lives at least nine tenths of SIGNED_URL_TTL.
"""
import functools
import time

from itsdangerous import BadSignature, URLSafeTimedSerializer

MAX_WINDOW_SECONDS = 300


def window_for(ttl):
    return max(1, min(MAX_WINDOW_SECONDS, ttl // 10))


class _WindowedSerializer(URLSafeTimedSerializer):
    window = MAX_WINDOW_SECONDS

    def get_timestamp(self):
        now = int(time.time())
        return now - now % self.window


def _serializer(secret_key, window=MAX_WINDOW_SECONDS):
    serializer = _WindowedSerializer(secret_key, salt="mediamgr-signed-file")
    serializer.window = window
    return serializer


def sign_file_token(secret_key, payload, ttl):
    """A token for `payload`; the same one for the whole signing window (cached: a page of cards signs once)."""
    window = window_for(ttl)
    now = int(time.time())
    return _window_token(secret_key, tuple(sorted(payload.items())), ttl, now - now % window)


@functools.lru_cache(maxsize=20000)
def _window_token(secret_key, payload_items, ttl, _window_start):
    return _serializer(secret_key, window_for(ttl)).dumps({**dict(payload_items), "ttl": ttl})


def read_file_token(secret_key, token):
    """The payload of a valid, unexpired token, else None."""
    try:
        payload, signed_at = _serializer(secret_key).loads(token, return_timestamp=True)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or time.time() > signed_at.timestamp() + payload.get("ttl", 0):
        return None
    return payload
