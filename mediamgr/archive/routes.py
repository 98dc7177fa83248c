"""The selection bar's Download: a small selection's zip is streamed at once, a large one is written
in the background and its prepared file is fetched from the Activity panel."""
import itertools

from flask import Response, abort, flash, make_response, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from ..bulk.selection import Selection, SelectionRefused
from ..extensions import db
from ..htmx import is_htmx, trigger
from ..jobs.queues import BackgroundUnavailable
from ..progress.publisher import latest_states
from ..progress.views import prepared_download, render_events
from ..storage.base import StorageError, content_disposition
from . import bp
from .service import (CONTENT_TYPE, archive_entries, archive_filename, archive_size, start_archive, streams_at_once,
                      zip_stream)

NOTHING_TO_ZIP = ("None of the selected files can be downloaded: files still being processed, and files in the "
                  "trash, are left out.")


def _selection():
    try:
        selection = Selection.from_form(request.form)
    except SelectionRefused as refusal:
        abort(400, str(refusal))
    if selection.scope != "library":
        abort(400, "Files in the trash cannot be downloaded; restore them first.")
    return selection


@bp.post("/media/download")
@login_required
def download_selection():
    """The selection's zip. From the page (htmx): a small one answers with a form the page submits at
    once (static/js/sharing.js), as a download cannot come through htmx; a large one starts the job. The
    form's own submission (or a page without JavaScript) gets the zip itself."""
    selection = _selection()
    count, size = archive_size(selection, current_user)
    if not count:
        abort(409, NOTHING_TO_ZIP)
    if streams_at_once(count, size):
        if is_htmx():
            return render_template("archive/_download_now.html", selection=selection, count=count, size=size,
                                   left_out=selection.count(current_user) - count)
        return _stream(selection)
    try:
        operation = start_archive(current_user, selection, count, size)
    except BackgroundUnavailable as refusal:
        abort(503, str(refusal))
    if not is_htmx():
        flash(f"{operation.title}: being prepared. The Activity panel offers the download when it is ready.", "success")
        return redirect(url_for("library.index"))
    response = make_response(render_events([latest_states([operation])[operation.id]], catchup=True))
    response.headers["HX-Reswap"] = "none"
    return trigger(response, "bulk-started")


def _stream(selection):
    """The zip, read from storage as it is sent: its length is known up front (Content-Length), and
    the first file is opened before the answer starts, so a storage that is down gets a clear 503."""
    entries = archive_entries(selection, current_user)
    filename = archive_filename(len(entries))
    db.session.close()  # the zip needs no database: hold no connection (nor SQLite read lock) while it streams
    stream = zip_stream(entries)
    length = len(stream)
    pieces = iter(stream)
    try:
        first = list(itertools.islice(pieces, 2))  # the first file's header, and its first bytes
    except StorageError:
        abort(503, "The files could not be read from storage right now. Try again in a moment.")
    return Response(stream_with_context(itertools.chain(first, pieces)), mimetype=CONTENT_TYPE, headers={
        "Content-Length": str(length), "Content-Disposition": content_disposition("attachment", filename),
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@bp.get("/media/download/<int:operation_id>")
@login_required
def prepared_zip(operation_id):
    """A large selection's zip, once prepared, until it expires."""
    return prepared_download(operation_id, "archive", CONTENT_TYPE,
                             "This zip has expired: select the files and press Download again for a new one.")
