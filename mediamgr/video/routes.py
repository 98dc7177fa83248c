"""The Chapters section of a video's details: rename, move, remove and add markers, propose them again
from scene changes; and the signed WebVTT chapters track the player loads."""
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..captions.formats import CaptionError, parse_cue_time
from ..captions.urls import signed_track, vtt_response
from ..extensions import db
from ..htmx import is_htmx
from ..progress.publisher import latest_states
from ..library.models import MediaFile
from ..library.service import EditRefused
from ..library.views import after_edit
from ..scoping import get_owned_or_404
from . import bp
from .analysis import enqueue_analysis, enqueue_marker_frames, report_of
from .markers import add_marker, chapters_vtt, clock, edit_marker, marker_of, markers_of, remove_marker
from .processing import JOBS, start_processing, watermark_params
from .views import chapters_context, storyboard_vtt



@bp.post("/media/<int:media_id>/chapters")
@login_required
def add(media_id):
    media = get_owned_or_404(MediaFile, media_id)
    try:
        marker = add_marker(media, request.form.get("title", ""), _typed_time(request.form.get("time", "")), current_user)
    except EditRefused as refusal:
        return _answer(media, str(refusal), 422, typed=dict(request.form))
    db.session.commit()
    enqueue_marker_frames(media)
    return _answer(media, f"Added the chapter “{marker.title}” at {clock(marker.seconds)}.")


@bp.post("/media/<int:media_id>/chapters/<int:marker_id>")
@login_required
def edit(media_id, marker_id):
    media, marker = _marker_or_404(media_id, marker_id)
    try:
        changed = edit_marker(media, marker, request.form.get("title", ""), _typed_time(request.form.get("time", "")),
                              current_user)
    except EditRefused as refusal:
        db.session.rollback()
        return _answer(media, str(refusal), 422, failed_marker=marker_id, typed=dict(request.form))
    db.session.commit()
    if changed and marker.thumbnail_key is None:
        enqueue_marker_frames(media)
    return _answer(media, f"Saved the chapter “{marker.title}” at {clock(marker.seconds)}." if changed
                   else "Nothing to save.")


@bp.post("/media/<int:media_id>/chapters/<int:marker_id>/remove")
@login_required
def remove(media_id, marker_id):
    media, marker = _marker_or_404(media_id, marker_id)
    try:
        remove_marker(media, marker, current_user)
    except EditRefused as refusal:
        return _answer(media, str(refusal), 409)
    db.session.commit()
    return _answer(media, f"Removed the chapter “{marker.title}”.")


@bp.post("/media/<int:media_id>/analysis")
@login_required
def analyse_again(media_id):
    """Make the quality report again and propose chapters from scene changes (keeping the markers the
    instructor edited or added)."""
    media = get_owned_or_404(MediaFile, media_id)
    if media.in_trash or not media.ready_at or media.kind not in ("video", "audio"):
        return after_edit(media, "Only a ready video or audio file can be analysed.", 409)
    if not enqueue_analysis(media):
        return after_edit(media, "The background service is unavailable right now. Try again in a moment.", 503)
    return after_edit(media, "Analysing the file: the quality report and the chapters appear here in a moment.")


@bp.get("/media/<int:media_id>/analysis")
@login_required
def analysis(media_id):
    """The Quality section as it is now (polled while the analysis runs); once it is done, the
    Chapters section, the player's chapters track and the card come along out of band."""
    media = get_owned_or_404(MediaFile, media_id)
    context = chapters_context(media)
    done = context["analysis"] is None or context["analysis"].status in ("ready", "failed")
    return render_template("video/_analysis.html", media=media, **context, done=done, oob_track=done,
                           heading=1 if request.headers.get("X-Details-Page") == "true" else 2)


@bp.get("/chapter-tracks/<token>.vtt")
def chapters_track(token):
    """The player's chapters track: a signed, expiring address (a <track> element sends no form)."""
    media_id = signed_track(token, "chapters")
    media = db.session.get(MediaFile, media_id) if media_id else None
    if media is None:
        abort(404)
    return vtt_response(chapters_vtt(media, markers_of(media)), player=True)


@bp.get("/storyboard-tracks/<token>.vtt")
def storyboard_track(token):
    """The player strip's thumbnails track: each cue names its frame in a sprite by a signed address."""
    media_id = signed_track(token, "storyboard")
    media = db.session.get(MediaFile, media_id) if media_id else None
    row = report_of(media) if media is not None else None
    if row is None or not row.storyboard:
        abort(404)
    return vtt_response(storyboard_vtt(row.storyboard), player=True)


def _typed_time(text):
    try:
        return parse_cue_time(text)
    except CaptionError as error:
        raise EditRefused(str(error)) from error


def _marker_or_404(media_id, marker_id):
    media = get_owned_or_404(MediaFile, media_id)
    marker = marker_of(media, marker_id)
    if marker is None:
        abort(404)
    return media, marker


def _answer(media, message, status=200, **extra):
    """The Chapters section again (and the player's chapters track, out of band), or the details page."""
    if not is_htmx():
        flash(message, "error" if status >= 400 else "success")
        return redirect(url_for("library.details", media_id=media.id))
    if status >= 400 and status != 422:
        return message, status, {"Content-Type": "text/plain; charset=utf-8"}
    html = render_template("video/_chapters.html", media=media, **chapters_context(media), message=message,
                           failed=status >= 400, oob_track=True, **extra)
    return make_response(html, status)


# ---- processing jobs -------------------------------------------------------------------------------

@bp.post("/media/<int:media_id>/process/<action>")
@login_required
def process(media_id, action):
    """Start a processing job on the file (its progress and Cancel in the Activity panel)."""
    media = get_owned_or_404(MediaFile, media_id)
    if action not in JOBS:
        abort(404)
    try:
        operation = start_processing(media, action, _processing_params(media, action, request.form), current_user)
    except EditRefused as refusal:
        return _started_or_refused(media, str(refusal), 422)
    return _started_or_refused(media, f"{operation.title}: started. Its progress is in the Activity panel.",
                               operation=operation)


def _processing_params(media, action, form):
    """What the job needs from the form, checked: a trim's span, a watermark's image, corner and opacity."""
    if action == "trim":
        start, end = _typed_time(form.get("start", "")), _typed_time(form.get("end", ""))
        if end <= start:
            raise EditRefused("The end of the trim must come after its start.")
        if media.duration_seconds and start >= media.duration_seconds:
            raise EditRefused(f"The start is past the end of the file ({clock(media.duration_seconds)}).")
        if media.duration_seconds and end > media.duration_seconds + 0.5:
            raise EditRefused(f"The end is past the end of the file ({clock(media.duration_seconds)}).")
        return {"start": start, "end": min(end, media.duration_seconds or end)}
    if action == "watermark":
        params = watermark_params(form)
        if db.session.get(MediaFile, params["image_id"]).owner_id != media.owner_id:
            raise EditRefused("Choose an image from the library of the video's owner.")
        return params
    return {}


def _started_or_refused(media, message, status=200, operation=None):
    if not is_htmx():
        flash(message, "error" if status >= 400 else "success")
        return redirect(url_for("library.details", media_id=media.id))
    events = [latest_states([operation])[operation.id]] if operation is not None else []
    html = render_template("video/_processing_answer.html", events=events, cards={}, catchup=True, message=message,
                           failed=status >= 400)
    response = make_response(html, status)
    response.headers["HX-Reswap"] = "none"
    return response
