"""POST /media/upload: a raw body (the page's script, one file per request, with upload progress)
or a multipart form (without JavaScript, several files)."""
from urllib.parse import unquote

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from ..auth.tokens import TOKENS_DO_NOT_LINK, signed_in_with_token
from ..courses.service import own_chapter
from ..extensions import db
from ..library.models import MediaFile
from ..library.quotas import OverQuota, ensure_room
from ..library.trash import referenced_keys
from ..storage import content_key
from ..library.versions import ReplaceRefused
from ..scoping import get_owned_or_404, owned_by
from ..progress.publisher import latest_states
from ..timeutil import utcnow
from ..progress.views import render_events
from . import bp
from .models import ResumableUpload
from .request import new_staged_file, upload_limit_text
from .service import accept_staged_file
from .sniff import ALLOWED, RejectedFile

ACCEPT_ATTRIBUTE = ",".join(sorted({f".{ext}" for _kind, exts in ALLOWED.values() for ext in exts}))
# What a drag may say of its files before the drop (MIME types only): the types the sniffer takes,
# and any video or audio (browsers name those types in more ways than the sniffer's list).
DRAG_ACCEPT_TYPES = ",".join(["video/*", "audio/*", *sorted(mime for mime in ALLOWED if not mime.startswith(("video/", "audio/")))])


@bp.post("/media/upload")
@login_required
def upload_files():
    """One raw file (the page's script) or a multipart form of files (no JavaScript)."""
    if request.mimetype == "multipart/form-data":
        return _upload_form()
    return _upload_body(current_user.id, request.headers.get("X-Link-Chapter"))


def _upload_body(owner_id, raw_chapter_id=None, replacing=None):
    """One file as the request body; its name in X-Filename (percent-encoded UTF-8). Checked against
    the limit and `owner_id`'s quota before a byte is read; with `raw_chapter_id` (X-Link-Chapter) it
    is linked to that chapter when ready, with `replacing` it becomes that file's new content."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        abort(413, f"This file is larger than the {upload_limit_text()} upload limit.")
    if request.content_length == 0:
        abort(400, "This file is empty (0 bytes); nothing was uploaded.")
    _within_quota(owner_id, request.content_length)
    chapter = _link_target(raw_chapter_id)
    staged = new_staged_file(unquote(request.headers.get("X-Filename", ""))[:1000], request.content_length or 0)
    request.staged_files.append(staged)
    staged.copy_from(request.upload_body)
    try:
        operation = accept_staged_file(current_user, staged, chapter and chapter.id, replacing=replacing)
    except ReplaceRefused as refusal:
        abort(refusal.status, str(refusal))
    except OverQuota as refusal:
        abort(413, str(refusal))
    except RejectedFile as refusal:
        abort(415 if staged.size else 400, str(refusal))
    return render_events([latest_states([operation])[operation.id]], with_cards=False, catchup=True), 201


@bp.post("/media/<int:media_id>/replace")
@login_required
def replace_file(media_id):
    """New content for a file ("Replace file" in its details): a raw body (the page's script, with
    progress) or a form's `file` (without JavaScript). The file keeps its id, name, tags and links;
    the new content becomes its current version once it is processed."""
    media = get_owned_or_404(MediaFile, media_id)
    if request.mimetype == "multipart/form-data":
        return _replace_form(media)
    return _upload_body(media.owner_id, replacing=media)


def _replace_form(media):
    part = request.files.get("file")
    if part is None or not part.filename:
        flash("Choose a file to replace this one with.", "error")
        return redirect(url_for("library.details", media_id=media.id))
    staged = part.stream
    staged.filename = part.filename
    staged.close()
    try:
        accept_staged_file(current_user, staged, replacing=media)
        flash(f"“{staged.filename}” uploaded; it replaces this file's content when it is processed.", "success")
    except (ReplaceRefused, RejectedFile) as refusal:
        flash(str(refusal), "error")
    return redirect(url_for("library.details", media_id=media.id))


def _within_quota(owner_id, length):
    """Refuse, before a byte is read, a body that cannot fit the owner's quota. The page sends the
    SHA-256 it computed (X-Content-SHA256): content the owner stores already costs nothing. The claim
    only lets a body be read; accept_staged_file checks again with the hash of the bytes that came."""
    if not length:
        return  # of unknown length: checked once staged, by accept_staged_file
    claimed = request.headers.get("X-Content-SHA256", "").strip().lower()
    if len(claimed) == 64 and set(claimed) <= set("0123456789abcdef") and referenced_keys([content_key(owner_id, claimed)]):
        return
    try:
        ensure_room(owner_id, length)
    except OverQuota as refusal:
        abort(413, str(refusal))


def _link_target(raw_chapter_id):
    """The chapter an upload is for ("Upload new" in the course editor), checked before any byte is
    read: another user's or an unknown chapter answers 404."""
    if not raw_chapter_id:
        return None
    if signed_in_with_token():
        abort(403, TOKENS_DO_NOT_LINK)
    chapter = own_chapter(raw_chapter_id)
    if chapter is None:
        abort(404, "That chapter does not exist (any more).")
    return chapter


def _upload_form():
    """Files from a plain form; each is accepted or refused on its own, then back to the library
    (or to the course editor, for an upload into a chapter)."""
    chapter = _link_target(request.form.get("chapter"))
    chosen = [part for part in request.files.getlist("files") if part.filename]
    if not chosen:
        flash("Choose at least one file to upload.", "error")
    for part in chosen:
        staged = part.stream
        staged.filename = part.filename
        staged.close()
        try:
            accept_staged_file(current_user, staged, chapter and chapter.id)
            flash(f"“{staged.filename}” uploaded; it is being processed"
                  + (f" and will be added to “{chapter.title}” when ready." if chapter else "."), "success")
        except (RejectedFile, OverQuota) as refusal:
            flash(str(refusal), "error")
    if chapter:
        return redirect(url_for("courses.edit", course_id=chapter.course_id))
    return redirect(url_for("library.index"))


@bp.app_context_processor
def _upload_context():
    """resumable_uploads(): the signed-in user's unfinished resumable uploads, for the panel's
    "Resume" rows after a reload or on another day; upload_accept: the file inputs' accept list."""
    def resumable_uploads():
        if not current_user.is_authenticated:
            return []
        return list(db.session.scalars(
            owned_by(ResumableUpload, current_user.id).where(ResumableUpload.completed_at.is_(None),
                                                             ResumableUpload.expires_at > utcnow())
            .order_by(ResumableUpload.created_at.desc()).limit(20)))
    return {"resumable_uploads": resumable_uploads, "upload_accept": ACCEPT_ATTRIBUTE, "drag_accept_types": DRAG_ACCEPT_TYPES}
