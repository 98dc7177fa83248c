"""Export and import of a library's metadata (library.portability): the pages, the streamed downloads,
the background export of a large library, and the import with its dry run."""
import json
import uuid

from flask import Response, abort, current_app, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..htmx import is_htmx
from ..jobs.exports import FORMATS
from ..jobs.queues import BackgroundUnavailable, enqueue_export
from ..progress.models import Operation
from ..progress.publisher import publish_operation
from ..progress.views import prepared_download
from ..storage.base import StorageError
from ..timeutil import utcnow
from ..upload.request import MAX_IMPORT_BYTES
from . import bp, portability



def _background_above():
    """How many files an export may hold and still be streamed at once (EXPORT_IN_BACKGROUND_ABOVE)."""
    return current_app.config["EXPORT_IN_BACKGROUND_ABOVE"]


def _filename(kind):
    return f"library-{current_user.email.split('@')[0]}-{utcnow():%Y%m%d-%H%M}.{kind}"


@bp.get("/media/export")
@login_required
def export_page():
    return render_template("library/export.html", files=portability.file_count(current_user.id),
                           background_above=_background_above(), max_import=MAX_IMPORT_BYTES)


@bp.get("/media/export.<any(json, csv):kind>")
@login_required
def export_download(kind):
    """The library's metadata, streamed as it is read (constant memory); a large library's export is
    prepared in the background instead (POST /media/export)."""
    if portability.file_count(current_user.id) > _background_above():
        flash(f"Your library has more than {_background_above():,} files: its export is prepared in the "
              "background. Press “Prepare export”.", "info")
        return redirect(url_for("library.export_page"))
    content_type, writer = FORMATS[kind]
    return Response(stream_with_context(writer(current_user)), mimetype=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{_filename(kind)}"', "Cache-Control": "no-store"})


@bp.post("/media/export")
@login_required
def export_start():
    kind = request.form.get("format", "json")
    if kind not in FORMATS:
        abort(400, "Choose JSON or CSV.")
    count = portability.file_count(current_user.id)
    operation = Operation(owner_id=current_user.id, kind="export", title=f"Export of your library ({kind.upper()}, {count:,} files)",
                          stage="queued", status="queued", total=count, job_id=f"export-{uuid.uuid4().hex}",
                          details={"format": kind, "filename": _filename(kind)})
    db.session.add(operation)
    db.session.commit()
    try:
        enqueue_export(operation)
    except BackgroundUnavailable as refusal:
        db.session.delete(operation)
        db.session.commit()
        flash(str(refusal), "error")
        return redirect(url_for("library.export_page"))
    publish_operation(operation)
    flash("Preparing your export. The Activity panel shows its progress and offers the download when it is ready.",
          "success")
    return redirect(url_for("library.export_page"))


@bp.get("/media/export/<int:operation_id>/download")
@login_required
def export_file(operation_id):
    """A prepared export, until it expires."""
    return prepared_download(operation_id, "export", lambda operation: FORMATS[operation.details["format"]][0],
                             "This export has expired: export the library again for a new one.")


@bp.get("/media/import")
@login_required
def import_page():
    return render_template("library/import.html", max_import=MAX_IMPORT_BYTES)


@bp.post("/media/import")
@login_required
def import_library():
    """Check a document (dry run) or import it; the answer says what would be, or was, created."""
    upload = request.files.get("document")
    action = request.form.get("action", "check")
    result, errors, message = None, [], ""
    if upload is None or not upload.filename:
        errors = ["Choose a library export (a .json file) first."]
    else:
        try:
            document = json.load(upload.stream)
        except (ValueError, UnicodeDecodeError):
            document, errors = None, ["This file is not JSON: choose a library export (the .json file of “Export library”)."]
        if document is not None:
            try:
                if action == "import":
                    result = portability.import_library(current_user, document)
                    message = (f"Imported {result.new_files:,} files, {len(result.courses):,} courses and "
                               f"{result.links:,} links into your library.")
                else:
                    result = portability.plan(current_user, document)
            except portability.ImportRefused as refusal:
                errors = refusal.errors
            except StorageError:
                db.session.rollback()
                errors = ["The stored content of these files could not be copied (storage did not answer): nothing was "
                          "imported. Try again in a moment."]
    template = "library/_import_result.html" if is_htmx() else "library/import.html"
    response = render_template(template, result=result, errors=errors, message=message, action=action,
                               max_import=MAX_IMPORT_BYTES)
    return response, 422 if errors and not is_htmx() else 200
