"""The operations a user has started: the panel's polling fallback, one operation's row, Retry,
Cancel, and the files an operation could not handle."""
from flask import abort, make_response, render_template
from flask_login import current_user, login_required

from ..bulk.service import UndoRefused, cancel_operation, retry_operation, undo_operation
from ..extensions import db
from ..htmx import trigger
from ..jobs.queues import BackgroundUnavailable
from ..library.models import MediaFile
from ..library.service import EditRefused
from ..progress.models import Operation, OperationItem
from ..progress.publisher import latest_states
from ..progress.views import recent_operations, render_events
from ..scoping import get_owned_or_404
from ..upload.service import retry_upload
from ..video.processing import retry_processing
from . import bp

FAILURES_SHOWN = 200


def _row(operation):
    return render_events([latest_states([operation])[operation.id]])


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
    return _row(get_owned_or_404(Operation, operation_id))


@bp.post("/operations/<int:operation_id>/retry")
@login_required
def retry(operation_id):
    """Queue a failed upload's processing again (the staged or stored bytes are reused), or a failed
    bulk operation (it goes on from its last checkpoint)."""
    operation = get_owned_or_404(Operation, operation_id)
    if operation.kind == "processing":
        if not retry_processing(operation):
            abort(409, "Only a failed operation can be retried.")
        return _row(operation)
    if operation.kind == "bulk":
        try:
            if not retry_operation(operation):
                abort(409, "Only a failed operation can be retried.")
        except BackgroundUnavailable as refusal:
            abort(503, str(refusal))
        return _row(operation)
    try:
        retry_upload(operation)
    except EditRefused as refusal:
        abort(409, str(refusal))
    return trigger(make_response(_row(operation)), "media-changed")


@bp.post("/operations/<int:operation_id>/cancel")
@login_required
def cancel(operation_id):
    operation = get_owned_or_404(Operation, operation_id)
    if not cancel_operation(operation):
        abort(409, "This operation has already finished.")
    return _row(operation)


@bp.post("/operations/<int:operation_id>/undo")
@login_required
def undo(operation_id):
    """Undo a finished bulk trash: a bulk restore of exactly the files it moved; answers with both rows."""
    operation = get_owned_or_404(Operation, operation_id)
    try:
        undoing = undo_operation(operation, current_user)
    except UndoRefused as refusal:
        abort(409, str(refusal))
    except BackgroundUnavailable as refusal:
        abort(503, str(refusal))
    states = latest_states([operation, undoing])
    return trigger(make_response(render_events([states[operation.id], states[undoing.id]], catchup=True)),
                   "bulk-started")


@bp.get("/operations/<int:operation_id>/failures")
@login_required
def failures(operation_id):
    """The files an operation could not handle, each with the reason."""
    operation = get_owned_or_404(Operation, operation_id)
    items = db.session.execute(
        db.select(OperationItem.media_id, OperationItem.media_name, OperationItem.error,
                  MediaFile.id.label("exists"))
        .outerjoin(MediaFile, MediaFile.id == OperationItem.media_id)
        .where(OperationItem.operation_id == operation.id, OperationItem.error.is_not(None))
        .order_by(OperationItem.position).limit(FAILURES_SHOWN)).all()
    return render_template("bulk/_failures.html", operation=operation, items=items, shown=FAILURES_SHOWN)
