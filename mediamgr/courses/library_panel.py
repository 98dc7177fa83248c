"""The course editor's docked library panel (wide screens): the course owner's library, filtered with
the library's own controls, its files dragged into a chapter (linked at its end by the picker's route)."""
from flask import render_template, request
from flask_login import login_required

from ..auth.models import User
from ..extensions import db
from ..library.queries import SORTS, TYPE_LABELS, LibraryFilter, library_page
from . import bp
from .service import get_course_or_404

PANEL_PAGE_SIZE = 30


def _panel_context(course_id):
    course = get_course_or_404(course_id)
    flt = LibraryFilter.from_args(request.args)
    owner = db.session.get(User, course.owner_id)  # an admin editing someone's course sees that owner's files
    return {"course": course, "flt": flt, "page": library_page(owner, flt, page_size=PANEL_PAGE_SIZE)}


@bp.get("/courses/<int:course_id>/library")
@login_required
def library_panel(course_id):
    """The panel: filters and the first page of files (fetched once the panel is shown)."""
    return render_template("courses/_library_panel.html", sorts=SORTS, type_labels=TYPE_LABELS,
                           **_panel_context(course_id))


@bp.get("/courses/<int:course_id>/library/results")
@login_required
def library_panel_results(course_id):
    """The panel's list of files for a filter, or the next page of it ("Load more")."""
    context = _panel_context(course_id)
    template = "courses/_library_panel_more.html" if context["flt"].cursor else "courses/_library_panel_results.html"
    return render_template(template, **context)
