"""The progress websocket (the polling fallback is operations.active), and what the panel shows on a page load."""
import json
import time
import uuid

import redis
from flask import abort, current_app, request, url_for
from flask_login import current_user
from simple_websocket import ConnectionClosed

from ..auth.sessions import session_is_live
from ..extensions import db, redis_connection, sock
from . import bp
from .publisher import channel_for, latest_states
from .views import recent_operations, render_events

SOCKET_POLL_SECONDS = 1.0
SESSION_CHECK_SECONDS = 30  # how long an open socket may outlive the end of its session
TOO_MANY = 1008  # the close code htmx's websocket extension does not reconnect after: the page polls

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


def progress_socket_url():
    """Where the page opens its progress socket: PROGRESS_SOCKET_URL; else, with PROGRESS_SOCKET_PORT
    (`make run`'s websocket process), that port on the host the page came from, when it is one of the
    app's origins (so the browser sends the same cookies); else this process, at /ws/progress."""
    config = current_app.config
    if config["PROGRESS_SOCKET_URL"]:
        return config["PROGRESS_SOCKET_URL"]
    origin = request.host_url.rstrip("/").lower()
    if config["PROGRESS_SOCKET_PORT"] and origin in config["APP_ORIGINS"]:
        scheme, host = origin.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{host.rsplit(':', 1)[0]}:{config['PROGRESS_SOCKET_PORT']}/ws/progress"
    return url_for("progress.socket")


def allowed_origins():
    own = request.host_url.rstrip("/").lower()
    return {own, *current_app.config["APP_ORIGINS"]}


@sock.route("/ws/progress", bp=bp)
def socket(ws):
    """Stream the user's progress events as HTML fragments; first, the state of their recent operations."""
    pubsub = redis_connection.client.pubsub(ignore_subscribe_messages=True)
    user = current_user._get_current_object()
    checked_at = time.monotonic()
    socket_id = uuid.uuid4().hex
    try:
        pubsub.subscribe(channel_for(user.id))
        _count_in(user.id, socket_id)
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
                event = json.loads(message["data"])
                if "close_sockets" in event:
                    if socket_id in event["close_sockets"]:
                        ws.close(reason=TOO_MANY, message="too many open pages: this one polls instead")
                        break
                    continue
                ws.send(render_events([event]))
                db.session.close()  # give the connection back: a socket may stay open for hours
    except (ConnectionClosed, redis.RedisError):
        pass
    finally:
        pubsub.close()
        db.session.remove()
        _count_out(user.id, socket_id)


def _sockets_key(user_id):
    return f"{current_app.config['REDIS_NAMESPACE']}:sockets:{user_id}"


def _count_in(user_id, socket_id):
    """Count this socket among the user's open ones (in every web process); beyond
    PROGRESS_SOCKETS_PER_USER the oldest are asked to close (their pages poll instead). A socket whose
    process died without counting out is among the oldest and goes first."""
    client, key = redis_connection.client, _sockets_key(user_id)
    client.zadd(key, {socket_id: time.time()})
    client.expire(key, 86400)
    oldest = client.zrange(key, 0, -(current_app.config["PROGRESS_SOCKETS_PER_USER"] + 1))
    if oldest:
        names = [name.decode() if isinstance(name, bytes) else name for name in oldest]
        client.zrem(key, *names)
        client.publish(channel_for(user_id), json.dumps({"close_sockets": names}))


def _count_out(user_id, socket_id):
    try:
        redis_connection.client.zrem(_sockets_key(user_id), socket_id)
    except redis.RedisError:
        pass


@bp.app_context_processor
def _socket_url():
    return {"progress_socket_url": progress_socket_url}


@bp.app_context_processor
def _panel():
    """panel_events(): what the upload panel shows when a page loads: the work still under way."""
    def panel_events():
        if not current_user.is_authenticated:
            return []
        return list(latest_states(recent_operations(current_user, finished_too=False)).values())
    return {"panel_events": panel_events}
