"""The progress websocket (the polling fallback is operations.active), and what the panel shows on a page load."""
import json
import time

import redis
from flask import abort, current_app, request
from flask_login import current_user
from simple_websocket import ConnectionClosed

from ..auth.sessions import session_is_live
from ..extensions import db, redis_connection, sock
from . import bp
from .publisher import channel_for, latest_states
from .views import recent_operations, render_events

SOCKET_POLL_SECONDS = 1.0
SESSION_CHECK_SECONDS = 30  # how long an open socket may outlive the end of its session

@bp.before_app_request
def _guard_socket():
    """Refuse the websocket upgrade itself to strangers and to pages from other origins."""
    if request.endpoint != "progress.socket":
        return None
    if not current_user.is_authenticated:
        abort(401)
    # The page's origin, exactly (scheme, host and port): the configured origins, or this server's own.
    origin = request.headers.get("Origin")
    if origin and origin.lower() not in allowed_origins():
        abort(403)
    return None


def allowed_origins():
    own = request.host_url.rstrip("/").lower()
    return {own, *current_app.config["APP_ORIGINS"]}


@sock.route("/ws/progress", bp=bp)
def socket(ws):
    """Stream the user's progress events as HTML fragments; first, the state of their recent operations."""
    pubsub = redis_connection.client.pubsub(ignore_subscribe_messages=True)
    user = current_user._get_current_object()
    checked_at = time.monotonic()
    try:
        pubsub.subscribe(channel_for(user.id))
        operations = recent_operations(current_user)
        snapshot = render_events(list(latest_states(operations).values()))
        db.session.close()
        if snapshot.strip():
            ws.send(snapshot)
        while ws.connected:
            if time.monotonic() - checked_at > SESSION_CHECK_SECONDS:
                if not session_is_live(user):  # logged out, or signed out everywhere: the socket ends too
                    ws.close(reason=1008, message="signed out")
                    break
                db.session.close()
                checked_at = time.monotonic()
            message = pubsub.get_message(timeout=SOCKET_POLL_SECONDS)
            if message and message["type"] == "message":
                ws.send(render_events([json.loads(message["data"])]))
                db.session.close()  # give the connection back: a socket may stay open for hours
    except (ConnectionClosed, redis.RedisError):
        pass
    finally:
        pubsub.close()
        db.session.remove()


@bp.app_context_processor
def _panel():
    """panel_events(): what the upload panel shows when a page loads: the work still under way."""
    def panel_events():
        if not current_user.is_authenticated:
            return []
        return list(latest_states(recent_operations(current_user, finished_too=False)).values())
    return {"panel_events": panel_events}
