"""The Captions section of a file's details: add (or replace) a track, rename its label, remove it,
download it; and the signed address the player's <track> element loads it from."""
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..htmx import is_htmx, page_or_fragment
from ..library.models import MediaFile
from ..library.service import EditRefused
from ..library.views import after_edit
from ..parsing import parse_count
from ..scoping import get_owned_or_404
from . import bp
from .forms import CaptionForm, CaptionLabelForm
from .languages import LANGUAGES
from .models import Caption
from .formats import cue_clock
from .service import (CHANGED_MEANWHILE, add_captions, caption_of, captions_of, cue_token, cues_of, edit_cue,
                      relabel_captions, remove_captions)
from .transcribe import backend_name, enqueue_transcription
from .urls import signed_track, track_url, vtt_response


@bp.post("/media/<int:media_id>/captions")
@login_required
def add(media_id):
    """A WebVTT or SRT file becomes the track of the chosen language (replacing the one there was)."""
    media = get_owned_or_404(MediaFile, media_id)
    form = CaptionForm(prefix="captions")
    try:
        if not form.validate():
            raise EditRefused(next(iter(form.errors.values()))[0])
        upload = form.file.data
        track, replaced, converted_from = add_captions(media, upload.read(), upload.filename or "",
                                                       form.language.data, form.label.data, current_user)
    except EditRefused as refusal:
        form.file.errors = [str(refusal)]
        return after_edit(media, str(refusal), 422, caption_form=form)
    db.session.commit()
    converted = " (converted from SRT)" if converted_from == "SRT" else ""
    cues = f"{track.cue_count:,} cue" + ("" if track.cue_count == 1 else "s")
    return after_edit(media, f"{'Replaced' if replaced else 'Added'} the {LANGUAGES[track.language]} captions: "
                             f"{cues}{converted}.")


@bp.post("/media/<int:media_id>/captions/automatic")
@login_required
def automatic(media_id):
    """Automatic captions of the chosen language, made by TRANSCRIBE_BACKEND in a job."""
    media = get_owned_or_404(MediaFile, media_id)
    if not backend_name():
        return after_edit(media, "Automatic captions are off on this server.", 409)
    if media.in_trash or not media.ready_at:
        return after_edit(media, "Only a ready file that is not in the trash can be captioned.", 409)
    language = request.form.get("language", "")
    try:
        queued = enqueue_transcription(media, language)
    except EditRefused as refusal:
        return after_edit(media, str(refusal), 422)
    if not queued:
        return after_edit(media, "The background service is unavailable right now. Try again in a moment.", 503)
    return after_edit(media, f"Making {LANGUAGES[language]} captions from the speech: they appear in the list when "
                             "they are ready (a few minutes for an hour of video).")


@bp.post("/media/<int:media_id>/captions/<int:caption_id>/label")
@login_required
def relabel(media_id, caption_id):
    media, track = _track_or_404(media_id, caption_id)
    form = CaptionLabelForm()
    try:
        if not form.validate():
            raise EditRefused(next(iter(form.errors.values()))[0])
        changed = relabel_captions(media, track, form.label.data, current_user)
    except EditRefused as refusal:
        return after_edit(media, str(refusal), 422)
    db.session.commit()
    return after_edit(media, f"The captions are labelled “{track.label}”." if changed else "The label is unchanged.")


@bp.post("/media/<int:media_id>/captions/<int:caption_id>/remove")
@login_required
def remove(media_id, caption_id):
    media, track = _track_or_404(media_id, caption_id)
    try:
        remove_captions(media, track, current_user)
    except EditRefused as refusal:
        return after_edit(media, str(refusal), 409)
    db.session.commit()
    return after_edit(media, f"Removed the captions “{track.label}”.")


@bp.get("/media/<int:media_id>/captions/<int:caption_id>.vtt")
@login_required
def download(media_id, caption_id):
    """The track as a file, named after the media file and the language (lecture.en.vtt)."""
    media, track = _track_or_404(media_id, caption_id)
    stem = media.name.rsplit(".", 1)[0] if "." in media.name else media.name
    response = vtt_response(track.vtt)
    response.headers.set("Content-Disposition", "attachment", filename=f"{stem}.{track.language}.vtt")
    return response


CUES_PER_PAGE = 100


@bp.get("/media/<int:media_id>/captions/<int:caption_id>/cues")
@login_required
def cues(media_id, caption_id):
    """The cue editor: a track's cues, CUES_PER_PAGE at a time (from `start`), each a form of its own."""
    media, track = _track_or_404(media_id, caption_id)
    start = parse_count(request.args.get("start", "0")) or 0
    every = cues_of(track)
    shown = list(enumerate(every))[start:start + CUES_PER_PAGE]
    following = start + CUES_PER_PAGE if start + CUES_PER_PAGE < len(every) else None
    template = "captions/_cue_rows.html" if start else "captions/_cues.html"
    return page_or_fragment("captions/cues_page.html", template, media=media, track=track, cues=shown,
                            total=len(every), following=following, **_cue_helpers())


@bp.post("/media/<int:media_id>/captions/<int:caption_id>/cues/<int:index>")
@login_required
def save_cue(media_id, caption_id, index):
    """Save one cue (its times and text); answers with its row again, saved or with the reason."""
    media, track = _track_or_404(media_id, caption_id)
    form = request.form
    typed = {"start": form.get("start", ""), "end": form.get("end", ""), "text": form.get("text", "")}
    try:
        changed = edit_cue(media, track, index, form.get("was", ""), typed["start"], typed["end"], typed["text"],
                           current_user)
    except EditRefused as refusal:
        db.session.rollback()
        every = cues_of(track)
        current = every[index] if 0 <= index < len(every) else None  # the form saves over this next time
        shown = None if str(refusal) == CHANGED_MEANWHILE else typed  # else what was typed, to correct
        return _cue_answer(media, track, index, current, str(refusal), shown, 422)
    db.session.commit()
    player = {"track_src": track_url(track), "first": captions_of(media)[0].id == track.id} if changed else {}
    return _cue_answer(media, track, index, cues_of(track)[index], "Saved." if changed else "Nothing to save.", None, 200,
                       **player)


def _cue_answer(media, track, index, cue, message, typed, status, **player):
    if not is_htmx():
        flash(message, "error" if status >= 400 else "success")
        return redirect(url_for("captions.cues", media_id=media.id, caption_id=track.id) + f"#cue-{track.id}-{index}")
    html = render_template("captions/_cue.html", media=media, track=track, index=index, cue=cue, typed=typed,
                           message=message, failed=status >= 400, **player, **_cue_helpers())
    return make_response(html, status)


def _cue_helpers():
    return {"cue_clock": cue_clock, "cue_token": cue_token}


@bp.get("/tracks/<token>.vtt")
def track(token):
    """The player's copy of a track: a signed, expiring address (a <track> element sends no form)."""
    caption_id = signed_track(token)
    found = db.session.get(Caption, caption_id) if caption_id else None
    if found is None:
        abort(404)
    return vtt_response(found.vtt, player=True)


def _track_or_404(media_id, caption_id):
    media = get_owned_or_404(MediaFile, media_id)
    track = caption_of(media, caption_id)
    if track is None:
        abort(404)
    return media, track
