"""Library pages and the fragments htmx swaps into them."""
from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..courses.usage import removed_links
from ..extensions import db
from ..htmx import is_htmx, page_or_fragment, trigger
from ..scoping import get_owned_or_404, owned
from ..bulk.actions import ACTIONS
from ..bulk.selection import MAX_PICKED, Selection
from ..bulk.service import start_operation
from ..jobs.queues import BackgroundUnavailable, enqueue_deletions
from ..video.analysis import enqueue_analysis
from ..parsing import parse_count, parse_id
from ..progress.publisher import latest_states
from ..progress.views import render_events
from ..storage import get_storage
from ..upload.names import what_changed
from ..upload.service import latest_upload_operation, retry_upload
from . import bp
from .alt_text import set_alt_text
from .batch import FileBatch
from .forms import DetailsForm, RenameForm, TagForm
from .models import MediaFile, MediaVersion
from .queries import (ADDED_PRESETS, QUALITY_LABELS, SIZE_RANGES, SORTS, TYPE_LABELS, USAGE_LABELS, LibraryFilter, category_suggestions,
                      course_choices, library_page, owner_choices, tag_suggestions, trash_page)
from .service import (EditRefused, add_tags, clean_category, normalize_tag, parse_tags, remove_tags, rename_media,
                      set_category, set_description)
from .trash import days_left, delete_files, restore_files, retention_days, trash_files
from .duplicates import (GROUPS_PER_PAGE, duplicate_groups, duplicate_groups_of, duplicate_query_or_400,
                         duplicate_summary, existing_copies, keep_both, merge_into, merge_plan)
from .quotas import storage_use
from .versions import restore_version
from .views import after_edit, after_removal, details_context, in_use_answer


@bp.app_context_processor
def _trash_context():
    """The trash's recovery period, for its page and rows."""
    return {"trash_days_left": days_left, "trash_retention_days": retention_days}


@bp.get("/")
def home():
    return redirect(url_for("library.index"))


@bp.get("/media")
@login_required
def index():
    """The library page: filters, the first page of results, the upload panel."""
    flt = LibraryFilter.from_args(request.args)
    return render_template("library/index.html", flt=flt, page=library_page(current_user, flt), sorts=SORTS,
                           type_labels=TYPE_LABELS, usage_labels=USAGE_LABELS, quality_labels=QUALITY_LABELS, size_ranges=SIZE_RANGES,
                           added_presets=ADDED_PRESETS, courses=course_choices(current_user),
                           categories=category_suggestions(current_user), owners=owner_choices(current_user),
                           storage=storage_use(current_user))


@bp.get("/media/grid")
@login_required
def grid():
    """The results fragment; with a cursor, only the next page of items."""
    flt = LibraryFilter.from_args(request.args)
    template = "library/_more.html" if flt.cursor else "library/_results.html"
    response = make_response(render_template(template, flt=flt, page=library_page(current_user, flt)))
    if is_htmx() and not flt.cursor and not request.headers.get("X-Refresh"):
        response.headers["HX-Push-Url"] = url_for("library.index", **flt.args())
    return response


@bp.get("/media/<int:media_id>")
@login_required
def details(media_id):
    """The details dialog (htmx) or the same details as a full page."""
    media = get_owned_or_404(MediaFile, media_id)
    return page_or_fragment("library/details_page.html", "library/_details_dialog.html", **details_context(media))


@bp.get("/media/<int:media_id>/thumbnail")
@login_required
def thumbnail(media_id):
    """A stable address for a file's thumbnail that redirects to a fresh signed URL: pages listing
    thousands of files (the course editor) link this instead of signing every one up front, and the
    browser fetches only the thumbnails it shows (loading=lazy)."""
    key = db.session.scalar(owned(MediaFile).with_only_columns(MediaFile.thumbnail_key).where(MediaFile.id == media_id))
    if not key:
        abort(404)
    response = redirect(get_storage().signed_url(key, "thumbnail.webp", "image/webp",
                                                 ttl=current_app.config["SIGNED_URL_TTL"]))
    response.headers["Cache-Control"] = f"private, max-age={min(600, current_app.config['SIGNED_URL_TTL'] // 2)}"
    return response


def _save_edit(media, form, field, change, message):
    """Validate `form`, make the `change()`, commit, answer with `message(changed)`.

    A refusal shows the form again with the reason under `field` (422)."""
    try:
        if not form.validate():
            raise EditRefused(next(iter(form.errors.values()))[0])
        changed = change(form)
    except EditRefused as refusal:
        form[getattr(refusal, "field", field)].errors = [str(refusal)]
        return after_edit(media, str(refusal), 422, **{_FORM_SLOTS[type(form)]: form})
    db.session.commit()
    return after_edit(media, message(changed))


_FORM_SLOTS = {RenameForm: "rename_form", DetailsForm: "details_form", TagForm: "tag_form"}


@bp.post("/media/<int:media_id>/rename")
@login_required
def rename(media_id):
    """Rename a file (the extension stays); answers with the dialog body and the card."""
    media = get_owned_or_404(MediaFile, media_id)
    form = RenameForm()
    return _save_edit(media, form, "name", lambda form: rename_media(media, form.name.data, current_user),
                      lambda changed: _renamed(form.name.data, media, changed))


def _renamed(typed, media, changed):
    """What the toast says: the name as stored, and what became of characters a name cannot hold."""
    if not changed:
        return "The name is unchanged."
    note = what_changed(typed, media.name)
    return f"Renamed to “{media.name}”." + (f" {note}" if note else "")


@bp.post("/media/<int:media_id>/details")
@login_required
def update(media_id):
    """Save the description, the category and (an image's) alt text."""
    media = get_owned_or_404(MediaFile, media_id)

    def save(form):
        category = clean_category(form.category.data)
        described = media.kind == "image" and set_alt_text(media, form.alt_text.data, current_user)
        described = set_description(media, form.description.data, current_user) or described
        return _applied(media, set_category(FileBatch.of(media, current_user), category)) or described

    return _save_edit(media, DetailsForm(), "description", save,
                      lambda changed: "Details saved." if changed else "Nothing to save.")


def _applied(media, outcome):
    """Whether a rule changed the file; its reason for leaving it alone is the route's refusal."""
    reason = outcome.failure_for(media.id)
    if reason:
        raise EditRefused(reason)
    return media.id in outcome.changed


@bp.post("/media/<int:media_id>/tags")
@login_required
def tag(media_id):
    """Add one or more comma-separated tags."""
    media = get_owned_or_404(MediaFile, media_id)

    def add(form):
        names = parse_tags(form.tags.data)
        if not names:
            raise EditRefused("Type a tag to add.")
        return _applied(media, add_tags(FileBatch.of(media, current_user), names))

    return _save_edit(media, TagForm(), "tags", add,
                      lambda changed: "Tags added." if changed else "Those tags are already on this file.")


@bp.post("/media/<int:media_id>/tags/remove")
@login_required
def untag(media_id):
    """Remove one tag."""
    media = get_owned_or_404(MediaFile, media_id)
    name = normalize_tag(request.form.get("tag", ""))
    outcome = remove_tags(FileBatch.of(media, current_user), [name] if name else [])
    if outcome.failure_for(media.id):
        db.session.rollback()
        return after_edit(media, outcome.failure_for(media.id), 409)
    db.session.commit()
    removed = media.id in outcome.changed
    return after_edit(media, f"Removed tag “{name}”." if removed else "That tag was not on this file.")


@bp.post("/media/<int:media_id>/trash")
@login_required
def trash(media_id):
    """Move a file to the trash; the toast offers Undo. A file a course uses is refused with where it
    is used, unless the user chose "Remove from courses and move to trash" (unlink=1)."""
    media = get_owned_or_404(MediaFile, media_id)
    outcome = trash_files(FileBatch.of(media, current_user), current_user, unlink=request.form.get("unlink") == "1")
    if media.id in outcome.in_use:
        db.session.rollback()
        return in_use_answer(media, outcome.in_use[media.id])
    db.session.commit()
    if outcome.links_removed:
        where = "1 place" if outcome.links_removed == 1 else f"{outcome.links_removed} places"
        return after_removal(media, f"“{media.name}” removed from {where} in courses and moved to trash.",
                             undo_url=url_for("library.restore", media_id=media.id, links=1))
    return after_removal(media, f"“{media.name}” moved to trash.", undo_url=url_for("library.restore", media_id=media.id))


@bp.post("/media/<int:media_id>/restore")
@login_required
def restore(media_id):
    """Bring a file back from the trash (also the toast's Undo); with links=1, also the course
    links that moving it to the trash removed."""
    media = get_owned_or_404(MediaFile, media_id)
    outcome = restore_files(FileBatch.of(media, current_user), current_user, links=request.values.get("links") == "1")
    db.session.commit()
    message = f"“{media.name}” restored to the library."
    if outcome.links_restored:
        message += f" Put back into {outcome.links_restored} chapter{'s' if outcome.links_restored != 1 else ''}."
    if outcome.links_lost:
        message += (f" {outcome.links_lost} link{'s' if outcome.links_lost != 1 else ''} could not come back: "
                    "the chapter was deleted.")
    response = after_removal(media, message, back="library.trash_index")
    return trigger(response, "media-changed") if is_htmx() else response


@bp.post("/media/<int:media_id>/delete")
@login_required
def delete(media_id):
    """Delete a trashed file for good; its stored bytes go once the rows are committed."""
    media = get_owned_or_404(MediaFile, media_id)
    name = media.name
    outcome = delete_files(FileBatch.of(media, current_user))
    if outcome.failure_for(media.id):
        db.session.rollback()
        return after_edit(media, outcome.failure_for(media.id), 409)
    db.session.commit()
    enqueue_deletions()  # only once the rows are gone for good; storage may be slow, a worker waits for it
    return after_removal(media, f"“{name}” deleted permanently.", back="library.trash_index")


@bp.post("/media/<int:media_id>/retry")
@login_required
def retry(media_id):
    """Process a failed upload again."""
    media = get_owned_or_404(MediaFile, media_id)
    try:
        retry_upload(latest_upload_operation(media))
    except EditRefused as refusal:
        return after_edit(media, str(refusal), 409)
    response = after_edit(media, "Processing again…")
    return trigger(response, "media-changed") if is_htmx() else response


@bp.post("/media/<int:media_id>/versions/<int:version_id>/restore")
@login_required
def restore_version_route(media_id, version_id):
    """Make an earlier version current again (as a new version)."""
    media = get_owned_or_404(MediaFile, media_id)
    version = db.session.scalar(db.select(MediaVersion).where(MediaVersion.id == version_id,
                                                              MediaVersion.media_id == media.id))
    if version is None:
        abort(404)
    try:
        restored = restore_version(media, version, current_user)
    except EditRefused as refusal:
        return after_edit(media, str(refusal), 409)
    db.session.commit()
    enqueue_analysis(media)  # the report and chapters of the content it has now
    response = after_edit(media, f"Version {version.number} restored: it is now version {restored.number}.")
    return trigger(response, "media-changed") if is_htmx() else response


@bp.post("/media/<int:media_id>/duplicate/keep")
@login_required
def keep_duplicate(media_id):
    """"Keep both": the upload stays a library entry of its own (its bytes are shared, not copied)."""
    media = get_owned_or_404(MediaFile, media_id)
    changed = keep_both(media, current_user)
    db.session.commit()
    return after_edit(media, "Kept both: they share one stored copy." if changed else "Nothing to change.")


@bp.post("/media/<int:media_id>/duplicate/use-existing")
@login_required
def use_existing(media_id):
    """"Use existing": the upload's course links and tags go to the file that was there first, and the
    upload goes to the trash."""
    media = get_owned_or_404(MediaFile, media_id)
    existing = media.duplicate_of
    if existing is None or existing.in_trash:
        return after_edit(media, "The file this repeated is no longer in your library; this one stays.", 409)
    merge_into(existing, [media], current_user)
    db.session.commit()
    response = after_removal(media, f"Using “{existing.name}”: “{media.name}” moved to the trash.")
    return trigger(response, "media-changed") if is_htmx() else response


@bp.get("/media/duplicates")
@login_required
def duplicates_index():
    """Groups of files with the same content, with Merge per group and Merge all."""
    page = parse_count(request.args.get("page", "1")[:12]) or 1
    groups = duplicate_groups(current_user, page)
    summary = duplicate_summary(current_user)
    return render_template("library/duplicates.html", groups=groups, summary=summary, page=page,
                           more=page * GROUPS_PER_PAGE < summary[0])


MAX_MERGE_PAGES = 200  # "Merge all" takes up to 10,000 groups at once; the rest is a second press away


@bp.post("/media/duplicates/merge")
@login_required
def merge_duplicate_group():
    """Merge one group (the file to keep chosen in the form), or every group ("all"), in the background."""
    groups = ([group for page in range(1, MAX_MERGE_PAGES + 1) for group in duplicate_groups(current_user, page)]
              if request.form.get("all") == "1" else
              [group for group in duplicate_groups_of(current_user, request.form.get("sha256", "")[:64])])
    if not groups:
        abort(409, "These files are no longer duplicates of each other; nothing to merge.")
    keep_ids = {group.sha256: parse_id(request.form.get("keep", "")) for group in groups} if len(groups) == 1 else {}
    keep, others = merge_plan(groups, keep_ids)
    try:
        operation = start_operation(current_user, ACTIONS["merge"], {"keep": keep},
                                    Selection(scope="library", ids=tuple(others[:MAX_PICKED])), min(len(others), MAX_PICKED))
    except BackgroundUnavailable as refusal:
        abort(503, str(refusal))
    if not is_htmx():
        flash(f"{operation.title}: started.", "success")
        return redirect(url_for("library.duplicates_index"))
    response = make_response(render_events([latest_states([operation])[operation.id]], catchup=True))
    return trigger(response, "bulk-started")


@bp.post("/media/duplicates/check")
@login_required
def check_duplicates():
    """The page asks, with each chosen file's SHA-256 (hashed in the browser) and size, whether the
    library holds that content already; it sends none of the file's bytes. Only the user's own files
    are looked at: another user's content answers like content nobody has."""
    wanted = duplicate_query_or_400(request.get_json(silent=True))
    found = existing_copies(current_user.id, [sha256 for sha256, _size in wanted])
    answers = []
    for sha256, size in wanted:
        media = found.get(sha256)
        match = media is not None and media.size_bytes == size
        answers.append({"sha256": sha256, "existing": {
            "id": media.id, "name": media.name, "url": url_for("library.details", media_id=media.id)} if match else None})
    return {"files": answers}


@bp.get("/media/trash")
@login_required
def trash_index():
    """Files in the trash, newest first, with Restore and Delete permanently."""
    cursor = request.args.get("cursor", "")[:500]
    more = bool(cursor and is_htmx())
    template = "library/_trash_more.html" if more else "library/trash.html"
    return render_template(template, **_trash_rows(cursor, counted=not more))


def _trash_rows(cursor="", counted=True):
    """A page of the trash and, for its rows, the course links a restore can put back."""
    page = trash_page(current_user, cursor, counted=counted)
    return {"page": page, "links": removed_links([m.id for m in page.items])}


@bp.get("/media/trash/results")
@login_required
def trash_results():
    """The trash's results fragment (first page), for its refresh after a restore or a delete."""
    return render_template("library/_trash_results.html", **_trash_rows())


@bp.get("/tags/suggest")
@login_required
def suggest_tags():
    """<option>s for the tag inputs' datalists."""
    typed = request.args.get("q") or request.args.get("tag") or request.args.get("tags", "").split(",")[-1]
    return render_template("library/_tag_options.html", names=tag_suggestions(current_user, typed[:100]))
