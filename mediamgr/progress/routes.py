"""The progress websocket, and the fragments it and the polling fallback send."""
import json
from urllib.parse import urlsplit

import redis
from flask import abort, make_response, request
from flask_login import current_user, login_required
from simple_websocket import ConnectionClosed

from ..bulk.service import BackgroundUnavailable, retry_operation
from ..extensions import db, redis_connection, sock
from ..htmx import trigger
from ..library.service import EditRefused
from ..upload.service import retry_upload
from ..scoping import get_owned_or_404
from . import bp
from .models import Operation
from .publisher import channel_for, latest_states
from .views import recent_operations, render_events

SOCKET_POLL_SECONDS = 1.0

@bp.before_app_request
def _guard_socket():
    """Refuse the websocket upgrade itself to strangers and to pages from other origins."""
    if request.endpoint != "progress.socket":
        return None
    if not current_user.is_authenticated:
        abort(401)
    # Cookies do not separate ports, so the host name is what tells another site apart.
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).hostname != urlsplit(f"//{request.host}").hostname:
        abort(403)
    return None


@sock.route("/ws/progress", bp=bp)
def socket(ws):
    """Stream the user's progress events as HTML fragments; first, the state of their recent operations."""
    pubsub = redis_connection.client.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(channel_for(current_user.id))
        operations = recent_operations(current_user)
        snapshot = render_events(list(latest_states(operations).values()))
        db.session.close()
        if snapshot.strip():
            ws.send(snapshot)
        while ws.connected:
            message = pubsub.get_message(timeout=SOCKET_POLL_SECONDS)
            if message and message["type"] == "message":
                ws.send(render_events([json.loads(message["data"])]))
                db.session.close()  # give the connection back: a socket may stay open for hours
    except (ConnectionClosed, redis.RedisError):
        pass
    finally:
        pubsub.close()
        db.session.remove()


@bp.get("/operations/active")
@login_required
def active():
    """The polling fallback: the same fragments the websocket sends."""
    operations = recent_operations(current_user)
    return render_events(list(latest_states(operations).values()))


@bp.get("/operations/<int:operation_id>")
@login_required
def show(operation_id):
    """One operation's row (a freshly added row asks once, in case it missed an event)."""
    operation = get_owned_or_404(Operation, operation_id)
    return render_events([latest_states([operation])[operation.id]])


@bp.post("/operations/<int:operation_id>/retry")
@login_required
def retry(operation_id):
    """Queue a failed upload's processing again (the staged or stored bytes are reused), or a failed
    bulk operation (it goes on from its last checkpoint)."""
    operation = get_owned_or_404(Operation, operation_id)
    if operation.kind == "bulk":
        try:
            if not retry_operation(operation):
                abort(409, "Only a failed operation can be retried.")
        except BackgroundUnavailable as refusal:
            abort(503, str(refusal))
        return render_events([latest_states([operation])[operation.id]])
    try:
        retry_upload(operation)
    except EditRefused as refusal:
        abort(409, str(refusal))
    response = make_response(render_events([latest_states([operation])[operation.id]]))
    return trigger(response, "media-changed")


@bp.app_context_processor
def _panel():
    """panel_events(): what the upload panel shows when a page loads: the work still under way."""
    def panel_events():
        if not current_user.is_authenticated:
            return []
        return list(latest_states(recent_operations(current_user, finished_too=False)).values())
    return {"panel_events": panel_events}
