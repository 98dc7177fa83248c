"""Several items at once: the editor's selection (remove, move to a chapter, copy to a course, each in
one request), the library's selection added to a chapter ("Add to course…"), the dialog that chooses
the chapter for either, and Undo."""
import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..bulk.selection import Selection, SelectionRefused
from ..extensions import db
from ..htmx import close_dialog, is_htmx, trigger
from ..parsing import id_or_400, ids_or_400
from ..scoping import scoped_to
from . import bp
from .models import Chapter, Course
from .routes import apply_edit, ask_before_linking_again, editor_context, with_undo
from .batch import MAX_ITEMS_AT_ONCE, copy_items_to, move_items_to, remove_items
from .service import CourseEditRefused, get_chapter_or_404, get_course_or_404, link_media
from .undo import get_undo_or_404, undo_course_edit

ACTIONS = {"move": "Move", "copy": "Copy"}


def _items():
    item_ids = ids_or_400(request.values.getlist("item"), "an item")
    if not item_ids:
        abort(400, "Select at least one item first.")
    return item_ids


def _count(number, what="item"):
    return f"{number:,} {what}{'s' if number != 1 else ''}"


def chapter_choices(owner_id, course_id=None):
    """[(course id, course title, [(chapter id, chapter title)])] of one owner's courses (only
    `course_id`'s, when given), by title; courses without chapters are left out."""
    query = (sa.select(Chapter.id, Chapter.title, Course.id, Course.title).join(Course, Course.id == Chapter.course_id)
             .order_by(Course.title, Course.id, Chapter.position))
    if course_id:
        query = query.where(Course.id == course_id)
    grouped = {}
    for chapter_id, chapter_title, each_course, course_title in db.session.execute(scoped_to(query, Course.owner_id, owner_id)):
        grouped.setdefault((each_course, course_title), []).append((chapter_id, chapter_title))
    return [(each_course, title, chapters) for (each_course, title), chapters in grouped.items()]


@bp.post("/courses/<int:course_id>/items/remove")
@login_required
def remove_selected(course_id):
    """Remove the selected items from their chapters, in one request; the toast offers Undo."""
    course = get_course_or_404(course_id)
    item_ids = _items()
    return apply_edit(course, lambda: remove_items(course, item_ids),
                      chapter_ids=lambda done: {row.chapter_id for row in done[0]},
                      then=lambda answer, done: with_undo(answer, done[1], f"Removed {_count(len(done[0]))}."))


# "items-done" reaches the page through the dialog's form, so the dialog closes after it (close_dialog).
@bp.post("/courses/<int:course_id>/items/move")
@login_required
def move_selected(course_id):
    """Move the selected items to the end of one chapter of the course; the toast offers Undo."""
    course = get_course_or_404(course_id)
    item_ids = _items()
    target = get_chapter_or_404(id_or_400(request.form.get("chapter", ""), "a chapter"))
    answer = apply_edit(course, lambda: move_items_to(course, item_ids, target),
                        chapter_ids=lambda done: {target.id, *done[1]},
                        then=lambda answer, done: with_undo(answer, done[2], f"Moved {_count(len(done[0]))} to “{target.title}”."))
    return close_dialog(trigger(answer, "items-done")) if is_htmx() and answer.status_code == 200 else answer


@bp.post("/courses/<int:course_id>/items/copy")
@login_required
def copy_selected(course_id):
    """Copy the selected items (their files, under their titles) to the end of a chapter of another
    course of the same owner."""
    course = get_course_or_404(course_id)
    item_ids = _items()
    target = get_chapter_or_404(id_or_400(request.form.get("chapter", ""), "a chapter"))
    try:
        copies = copy_items_to(course, item_ids, target)
    except CourseEditRefused as refusal:
        db.session.rollback()
        abort(422, str(refusal))
    db.session.commit()
    message = f"Copied {_count(len(copies))} to “{target.course.title}” › “{target.title}”."
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("courses.edit", course_id=course.id))
    response = make_response(render_template("courses/_undo_toast.html", message=message))
    return close_dialog(trigger(response, "items-done"))


@bp.get("/courses/<int:course_id>/items/choose")
@login_required
def choose_chapter(course_id):
    """The dialog of "Move to chapter…" (this course's chapters) and "Copy to course…" (the owner's
    other courses) for the selected items."""
    course = get_course_or_404(course_id)
    action = request.args.get("action", "")
    if action not in ACTIONS:
        abort(400, "Say whether the items move or are copied.")
    item_ids = _items()
    if action == "move":
        choices = chapter_choices(course.owner_id, course.id)
    else:
        choices = [choice for choice in chapter_choices(course.owner_id) if choice[0] != course.id]
    title = f"{ACTIONS[action]} {_count(len(set(item_ids)))} to " + ("another chapter" if action == "move" else "another course")
    return render_template("courses/_choose_chapter.html", title=title, choices=choices, item_ids=item_ids,
                           verb=ACTIONS[action], action_url=url_for(f"courses.{action}_selected", course_id=course.id),
                           empty="This course has no other chapter." if action == "move" else
                           "You have no other course with chapters yet.")


# ---- from the library: "Add to course…" -------------------------------------------------------

def _library_selection():
    try:
        selection = Selection.from_form(request.form)
    except SelectionRefused as refusal:
        abort(400, str(refusal))
    if selection.scope != "library":
        abort(400, "Only files in the library can be added to a course.")
    media_ids = db.session.scalars(selection.media_ids(current_user).limit(MAX_ITEMS_AT_ONCE + 1)).all()
    if not media_ids:
        abort(409, "None of the selected files is in the library any more.")
    if len(media_ids) > MAX_ITEMS_AT_ONCE:
        abort(400, f"Add at most {MAX_ITEMS_AT_ONCE:,} files to a course at once.")
    return selection, media_ids


@bp.post("/media/add-to-course/dialog")
@login_required
def add_to_course_dialog():
    """Choose the course and chapter for the library's selection (the user's own courses)."""
    selection, media_ids = _library_selection()
    return render_template("courses/_choose_chapter.html", title=f"Add {_count(len(media_ids), 'file')} to a course",
                           choices=chapter_choices(current_user.id), selection=selection, verb="Add",
                           action_url=url_for("courses.add_to_course"), ask_again=True,
                           empty="You have no course with chapters yet: create one under Courses first.")


@bp.post("/media/add-to-course")
@login_required
def add_to_course():
    """Link the library's selection at the end of a chapter of one of the user's own courses, with
    the picker's function (and its question when the chapter has some of the files already)."""
    _selection, media_ids = _library_selection()
    chapter_id = id_or_400(request.form.get("chapter", ""), "a chapter")
    chapter = db.session.scalar(scoped_to(sa.select(Chapter).join(Course, Course.id == Chapter.course_id)
                                          .where(Chapter.id == chapter_id), Course.owner_id, current_user.id))
    if chapter is None:
        abort(404)
    media_ids, question = ask_before_linking_again(chapter, media_ids)
    if question is not None:
        return question
    link_media(chapter, media_ids)
    db.session.commit()
    message = f"Added {_count(len(media_ids), 'file')} to “{chapter.course.title}” › “{chapter.title}”."
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for("library.index"))
    response = make_response(render_template("courses/_undo_toast.html", message=message))
    return close_dialog(trigger(response, "items-done", "media-changed"))


# ---- Undo ---------------------------------------------------------------------------------------

@bp.post("/courses/undo/<int:undo_id>")
@login_required
def undo(undo_id):
    """The toast's Undo after a removal, a move, a chapter or a course deleted."""
    kept = get_undo_or_404(undo_id)
    kind = kept.kind
    try:
        done = undo_course_edit(kept)
    except CourseEditRefused as refusal:
        db.session.rollback()
        abort(409, str(refusal))
    db.session.commit()
    target = url_for("courses.edit", course_id=done.course.id)
    if not is_htmx():
        flash(done.message, "success")
        return redirect(target)
    if kind == "course" or request.headers.get("HX-Current-URL", "").split("?")[0].endswith("/courses"):
        flash(done.message, "success")
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    # The editor's chapters come back in the same answer, out of band (the button's own swap is none).
    chapters = render_template("courses/_chapters.html", **editor_context(done.course.id), oob_list=True)
    return make_response(chapters + render_template("courses/_undo_toast.html", message=done.message))
