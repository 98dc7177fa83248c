"""Course pages: the list of courses and the course editor, with the fragments htmx swaps in."""
import random
import time

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError, OperationalError

from ..auth.models import User
from ..extensions import db
from ..htmx import close_dialog, is_htmx, page_or_fragment
from ..library.models import MediaFile
from ..library.queries import ADDED_PRESETS, SORTS, TYPE_LABELS, LibraryFilter, category_suggestions, library_page
from ..library.views import after_edit, media_urls
from ..parsing import ids_or_400, parse_id
from ..scoping import first_or_404, owned, owned_by
from .usage import places
from . import bp
from .batch import remove_items
from .models import Chapter, ChapterItem, CourseUndo
from .service import (CourseEditRefused, add_chapter, already_linked, course_for_editor_or_404, course_summaries,
                      create_course, delete_chapter, delete_course, editor_items, get_chapter_or_404, get_course_or_404,
                      get_item_or_404, link_media, move_item_by, move_item_to, remove_item, rename_chapter,
                      rename_course, rename_item, reorder_chapters, reorder_items)

PICKER_PAGE_SIZE = 24


@bp.get("/courses")
@login_required
def index():
    """The courses; after a course was deleted (?undone=its snapshot), a toast with Undo."""
    undo_id = parse_id(request.args.get("undone", ""))
    undo = db.session.scalar(owned(CourseUndo).where(CourseUndo.id == undo_id, CourseUndo.kind == "course")) if undo_id else None
    return render_template("courses/index.html", summaries=course_summaries(current_user), undo=undo)


@bp.post("/courses")
@login_required
def create():
    try:
        course = create_course(current_user, request.form.get("title", ""))
    except CourseEditRefused as refusal:
        if is_htmx():
            abort(422, str(refusal))
        flash(str(refusal), "error")
        return redirect(url_for("courses.index"))
    db.session.commit()
    target = url_for("courses.edit", course_id=course.id)
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


@bp.get("/courses/<int:course_id>/edit")
@login_required
def edit(course_id):
    context = editor_context(course_id)
    # The chapter list rendered on its own first, then placed in the page as one piece: Jinja
    # passes every piece of output up through each enclosing template, and a big course makes
    # about 200,000 pieces.
    chapters_html = Markup(render_template("courses/_chapters.html", **context))
    return render_template("courses/edit.html", course=context["course"], chapters_html=chapters_html)


def editor_urls():
    """(CSRF token, "/items/" prefix, "/media/" prefix of the thumbnails, "/chapters/" prefix, the
    upload URL): what every item and chapter of the editor uses, built once per answer instead of once
    per item or chapter (a course of 2,500 items would spend most of its time on url_for)."""
    return (generate_csrf(), url_for("courses.remove", item_id=0).removesuffix("0/remove"),
            url_for("library.thumbnail", media_id=0).removesuffix("0/thumbnail"),
            url_for("courses.retitle_chapter", chapter_id=0).removesuffix("0/title"), url_for("upload.upload_files"))


def editor_context(course_id):
    course = course_for_editor_or_404(course_id)
    return {"course": course, "items": editor_items([chapter.id for chapter in course.chapters])}


def chapters_answer(course, message=None, status=200, chapter_ids=None):
    """The chapter list again (htmx), or back to the editor (plain form) with the message. With
    `chapter_ids` (an edit of those chapters' items only), just those chapters, swapped out of band."""
    if is_htmx():
        if chapter_ids and status < 400:
            return _chapters_update(course.id, chapter_ids)
        db.session.expire_all()
        return make_response(render_template("courses/_chapters.html", **editor_context(course.id), message=message),
                             status)
    if message:
        flash(message, "error" if status >= 400 else "success")
    return redirect(url_for("courses.edit", course_id=course.id))


def _chapters_update(course_id, chapter_ids):
    changed = db.session.scalars(sa.select(Chapter).where(Chapter.id.in_(list(chapter_ids)), Chapter.course_id == course_id)
                                 .order_by(Chapter.position)).all()
    count = db.session.scalar(sa.select(sa.func.count()).where(Chapter.course_id == course_id))
    response = make_response(render_template("courses/_chapter_update.html", changed=changed, chapter_count=count,
                                             items=editor_items([chapter.id for chapter in changed])))
    response.headers["HX-Reswap"] = "none"  # the chapters come out of band; the list itself stays
    return response


def apply_edit(course, change, attempts=5, chapter_ids=None, then=None):
    """Make the change and commit. A concurrent edit of the same course that got there first (a
    position taken, SQLite's write lock) makes this one run again, after a short random pause, on
    the fresh state. `chapter_ids`: the only chapters the change can touch (see chapters_answer);
    a function of what change() returned, or a set. `then(answer, result)`: the answer to send
    instead (the answer with a toast, say)."""
    for attempt in range(attempts):
        if attempt:
            time.sleep(random.uniform(0.01, 0.05) * attempt)
        try:
            result = change()
            touched = chapter_ids(result) if callable(chapter_ids) else chapter_ids
            db.session.commit()
            answer = chapters_answer(course, chapter_ids=touched)
            return then(answer, result) if then else answer
        except CourseEditRefused as refusal:
            db.session.rollback()
            return chapters_answer(course, str(refusal), 422)
        except (IntegrityError, OperationalError):
            db.session.rollback()
            if attempt == attempts - 1:
                raise
    return chapters_answer(course)


@bp.get("/courses/<int:course_id>/chapters")
@login_required
def chapters(course_id):
    """The chapter list alone: the editor refetches it when an upload into a chapter is linked."""
    return render_template("courses/_chapters.html", **editor_context(course_id))


@bp.post("/courses/<int:course_id>/delete")
@login_required
def destroy(course_id):
    """Delete a course with its chapters and links; the files stay in the library. The list of
    courses then offers Undo."""
    course = get_course_or_404(course_id)
    undo = delete_course(course)
    db.session.commit()
    target = url_for("courses.index", undone=undo.id)
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


@bp.post("/courses/<int:course_id>/title")
@login_required
def retitle(course_id):
    course = get_course_or_404(course_id)
    try:
        rename_course(course, request.form.get("title", ""))
    except CourseEditRefused as refusal:
        db.session.rollback()
        if is_htmx():
            abort(422, str(refusal))
        flash(str(refusal), "error")
        return redirect(url_for("courses.edit", course_id=course.id))
    db.session.commit()
    if is_htmx():
        return render_template("courses/_title.html", course=course, saved=True)
    return redirect(url_for("courses.edit", course_id=course.id))


@bp.post("/courses/<int:course_id>/chapters")
@login_required
def add(course_id):
    course = get_course_or_404(course_id)
    return apply_edit(course, lambda: add_chapter(course, request.form.get("title", "")))


@bp.post("/courses/<int:course_id>/chapters/order")
@login_required
def order(course_id):
    course = get_course_or_404(course_id)
    ordered = ids_or_400(request.form.getlist("chapter"), "a chapter")
    return apply_edit(course, lambda: reorder_chapters(course, ordered))


@bp.post("/chapters/<int:chapter_id>/move")
@login_required
def move_chapter(chapter_id):
    """Move a chapter one place up or down (the keyboard's and the no-script way to reorder)."""
    chapter = get_chapter_or_404(chapter_id)
    course = chapter.course
    ids = [each.id for each in course.chapters]
    index = ids.index(chapter.id)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400, "Say whether the chapter moves up or down.")
    if 0 <= index + step < len(ids):
        ids[index], ids[index + step] = ids[index + step], ids[index]
    return apply_edit(course, lambda: reorder_chapters(course, ids))


@bp.post("/chapters/<int:chapter_id>/title")
@login_required
def retitle_chapter(chapter_id):
    chapter = get_chapter_or_404(chapter_id)
    return apply_edit(chapter.course, lambda: rename_chapter(chapter, request.form.get("title", "")))


@bp.post("/chapters/<int:chapter_id>/delete")
@login_required
def remove_chapter(chapter_id):
    chapter = get_chapter_or_404(chapter_id)
    course, title = chapter.course, chapter.title
    return apply_edit(course, lambda: delete_chapter(chapter),
                      then=lambda answer, undo: with_undo(answer, undo, f"Chapter “{title}” deleted."))


@bp.post("/chapters/<int:chapter_id>/items")
@login_required
def link(chapter_id):
    """Link library files at the end of the chapter (the picker's "Add N files"), in the order chosen.
    From the picker (ask_again=1), files the chapter has already are linked again only when the
    user says so (again=1), or left out (again=skip)."""
    chapter = get_chapter_or_404(chapter_id)
    media_ids = ids_or_400(request.form.getlist("media"), "a file")
    if not media_ids:
        abort(400, "Choose at least one file.")
    media_ids, question = ask_before_linking_again(chapter, media_ids)
    if question is not None:
        return question
    response = apply_edit(chapter.course, lambda: link_media(chapter, media_ids), chapter_ids={chapter.id})
    return close_dialog(response) if is_htmx() and response.status_code == 200 else response


def ask_before_linking_again(chapter, media_ids):
    """(the files to link, None), or (…, the question "Add it again?") for files the chapter has
    already, swapped into the dialog's #again-slot."""
    if request.form.get("ask_again") != "1" or request.form.get("again") == "1":
        return media_ids, None
    there = already_linked(chapter, media_ids)
    if not there:
        return media_ids, None
    if request.form.get("again") == "skip":
        fresh = [media_id for media_id in media_ids if media_id not in there]
        if not fresh:
            abort(409, "Those files are in the chapter already; nothing was added.")
        return fresh, None
    names = db.session.scalars(sa.select(MediaFile.name).where(MediaFile.id.in_(there)).order_by(MediaFile.name)).all()
    response = make_response(render_template("courses/_again.html", names=names, others=len(set(media_ids) - there),
                                             chapter=chapter))
    response.headers["HX-Retarget"] = "#again-slot"
    response.headers["HX-Reswap"] = "innerHTML"
    return media_ids, response


def with_undo(answer, undo, message):
    """The editor's answer with a toast saying what happened, with Undo (the library's trash toast)."""
    if undo is None or answer.status_code >= 400:
        return answer
    if not is_htmx():
        flash(message, "success")
        return answer
    answer.set_data(answer.get_data() + render_template(
        "courses/_undo_toast.html", message=message, undo_url=url_for("courses.undo", undo_id=undo.id)).encode())
    return answer


@bp.post("/chapters/<int:chapter_id>/items/order")
@login_required
def order_items(chapter_id):
    """The chapter's whole new order, in one request (drag and drop)."""
    chapter = get_chapter_or_404(chapter_id)
    ordered = ids_or_400(request.form.getlist("item"), "an item")
    return apply_edit(chapter.course, lambda: reorder_items(chapter, ordered), chapter_ids=lambda sources: {chapter.id, *sources})


@bp.post("/items/<int:item_id>/move")
@login_required
def move_item(item_id):
    """One place up or down ("Move up"/"Move down", Alt+Up/Down), or to another chapter."""
    item = get_item_or_404(item_id)
    course = item.chapter.course
    direction = request.form.get("direction", "")
    if direction in ("up", "down"):
        return apply_edit(course, lambda: move_item_by(item, -1 if direction == "up" else 1), chapter_ids={item.chapter_id})
    target = parse_id(request.form.get("chapter", ""))
    if target is None:
        abort(400, "Say where the item goes: up, down, or another chapter.")
    destination = get_chapter_or_404(target)
    return apply_edit(course, lambda: move_item_to(item, destination), chapter_ids={item.chapter_id, destination.id})


@bp.get("/items/<int:item_id>/move-menu")
@login_required
def move_menu(item_id):
    """"Move to chapter…": the other chapters to choose from, fetched for one item at a time (a
    course of 50 chapters of 50 items would otherwise carry 50 × 49 options per page)."""
    item = get_item_or_404(item_id)
    return page_or_fragment("courses/move_page.html", "courses/_move_menu.html", item=item,
                            chapters=item.chapter.course.chapters)


@bp.post("/items/<int:item_id>/title")
@login_required
def retitle_item(item_id):
    item = get_item_or_404(item_id)
    return apply_edit(item.chapter.course, lambda: rename_item(item, request.form.get("title", "")),
                 chapter_ids={item.chapter_id})


@bp.post("/items/<int:item_id>/remove")
@login_required
def remove(item_id):
    """Remove from the chapter; the file stays in the library. The toast offers Undo."""
    item = get_item_or_404(item_id)
    course, chapter, title = item.chapter.course, item.chapter, item.title
    return apply_edit(course, lambda: remove_items(course, [item.id])[1], chapter_ids={chapter.id},
                      then=lambda answer, undo: with_undo(answer, undo, f"Removed “{title}” from “{chapter.title}”."))


@bp.post("/items/<int:item_id>/unlink")
@login_required
def unlink(item_id):
    """Unlink from the library's side ("Where used" in the details, the in-use dialog): the same as
    Remove from chapter, answered with that dialog again."""
    item = get_item_or_404(item_id)
    media = item.media
    where = f"“{item.chapter.course.title}” › “{item.chapter.title}”"
    remove_item(item)
    db.session.commit()
    if request.args.get("then") == "in-use" and is_htmx():
        return render_template("library/_in_use_dialog.html", media=media,
                               places=places([media.id]).get(media.id, []))
    return after_edit(media, f"Removed from {where}.")


# ---- the library picker ----------------------------------------------------------------------

def _picker_filter():
    """The picker's filter: the library's, with Video preset until the user chooses a type."""
    args = request.args.to_dict()
    args.setdefault("type", "video")
    return LibraryFilter.from_args(args)


def _picker_context(chapter_id):
    """The chapter, the filter, a page of the course owner's library (an admin picks from the
    owner's files) and the ids of the files already in the chapter."""
    chapter = get_chapter_or_404(chapter_id)
    flt = _picker_filter()
    owner = db.session.get(User, chapter.course.owner_id)
    linked = set(db.session.scalars(sa.select(ChapterItem.media_id).where(ChapterItem.chapter_id == chapter.id)))
    return {"chapter": chapter, "flt": flt, "page": library_page(owner, flt, page_size=PICKER_PAGE_SIZE),
            "linked": linked, "owner": owner}


@bp.get("/chapters/<int:chapter_id>/picker")
@login_required
def picker(chapter_id):
    """The "Browse from Library" dialog of a chapter."""
    context = _picker_context(chapter_id)
    return render_template("courses/_picker.html", sorts=SORTS, type_labels=TYPE_LABELS, added_presets=ADDED_PRESETS,
                           categories=category_suggestions(context["owner"]), **context)


@bp.get("/chapters/<int:chapter_id>/picker/results")
@login_required
def picker_results(chapter_id):
    context = _picker_context(chapter_id)
    template = "courses/_picker_more.html" if context["flt"].cursor else "courses/_picker_results.html"
    return render_template(template, **context)


@bp.get("/chapters/<int:chapter_id>/picker/preview/<int:media_id>")
@login_required
def picker_preview(chapter_id, media_id):
    chapter = get_chapter_or_404(chapter_id)
    media = first_or_404(owned_by(MediaFile, chapter.course.owner_id).where(MediaFile.id == media_id))
    return render_template("courses/_picker_preview.html", media=media, urls=media_urls(media))
