"""Bulk actions: start one on a selection, its dialogs (tags, category, confirmations) and the "all
matching" count. Cancel, Retry and the failure list are operations' routes (operations/)."""
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..htmx import close_dialog, is_htmx, trigger
from ..jobs.queues import BackgroundUnavailable
from ..library.queries import tag_suggestions
from ..progress.publisher import latest_states
from ..progress.views import render_events
from ..video.processing import CORNERS, watermark_images
from . import bp
from .actions import ACTIONS, ActionRefused, action_params, needs_confirmation
from .selection import Selection, SelectionRefused
from .service import start_operation

DIALOG_ACTIONS = ("trash", "add_tags", "remove_tags", "set_category", "delete", "watermark")


def _selection():
    try:
        return Selection.from_form(request.values)
    except SelectionRefused as refusal:
        abort(400, str(refusal))


def _back(selection):
    return url_for("library.trash_index" if selection.scope == "trash" else "library.index")


@bp.post("/media/bulk")
@login_required
def start():
    action = ACTIONS.get(request.form.get("action", ""))
    if action is None or not action.in_bar:
        abort(400, "Choose one of the bulk actions.")
    selection = _selection()
    if action.scope != selection.scope:
        abort(400, "That action is not available here.")
    try:
        params = action_params(action, request.form)
    except ActionRefused as refusal:
        abort(400, str(refusal))
    count = selection.count(current_user)
    if not count:
        abort(409, "None of the selected files is here any more; nothing was changed.")
    if needs_confirmation(action, count) and request.form.get("confirmed") != "1":
        return _ask_first(action, selection, count)
    try:
        operation = start_operation(current_user, action, params, selection, count)
    except BackgroundUnavailable as refusal:
        abort(503, str(refusal))
    if not is_htmx():
        flash(f"{operation.title}: started.", "success")
        return redirect(_back(selection))
    response = make_response(render_events([latest_states([operation])[operation.id]], catchup=True))
    return close_dialog(trigger(response, "bulk-started"))


@bp.post("/media/bulk/dialog")
@login_required
def dialog():
    """The dialog that asks what an action needs (tags, a category) or confirms a permanent delete.
    A POST only because a selection of thousands of ids does not fit in a URL; it changes nothing."""
    action = ACTIONS.get(request.form.get("action", ""))
    if action is None or action.name not in DIALOG_ACTIONS:
        abort(404)
    selection = _selection()
    return _dialog(action, selection, selection.count(current_user))


def _dialog(action, selection, count, template="bulk/_dialog.html"):
    confirm = needs_confirmation(action, count)
    return render_template(template, action=action, selection=selection, count=count, confirm=confirm,
                           size=selection.size(current_user) if confirm else None, form=request.form,
                           tags=tag_suggestions(current_user, "", limit=200) if "tags" in action.name else [],
                           images=watermark_images(current_user.id) if action.name == "watermark" else [], corners=CORNERS)


def _ask_first(action, selection, count):
    """The action was sent without its confirmation: the dialog (or, without JavaScript, a page) that
    asks, with the count and the size; nothing has changed yet."""
    if not is_htmx():
        return _dialog(action, selection, count, template="bulk/confirm_page.html")
    response = make_response(_dialog(action, selection, count))
    response.headers["HX-Retarget"] = "#dialog-root"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


@bp.get("/media/bulk/count")
@login_required
def count():
    """How many files "Select all matching" selects: every file matching the filter, not just this page."""
    selection = _selection()
    return render_template("bulk/_count.html", count=selection.count(current_user), all_matching=True)
