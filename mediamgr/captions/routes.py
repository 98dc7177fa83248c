"""The Captions section of a file's details: add (or replace) a track, rename its label, remove it,
download it; and the signed address the player's <track> element loads it from."""
from flask import abort, current_app, make_response
from flask_login import current_user, login_required
from itsdangerous import BadSignature

from ..extensions import db
from ..library.models import MediaFile
from ..library.service import EditRefused
from ..library.views import after_edit
from ..scoping import get_owned_or_404
from . import bp
from .forms import CaptionForm, CaptionLabelForm
from .languages import LANGUAGES
from .models import Caption
from .service import add_captions, caption_of, relabel_captions, remove_captions
from .urls import track_signer

VTT_TYPE = "text/vtt; charset=utf-8"


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
    response = _vtt_response(track.vtt)
    response.headers.set("Content-Disposition", "attachment", filename=f"{stem}.{track.language}.vtt")
    return response


@bp.get("/tracks/<token>.vtt")
def track(token):
    """The player's copy of a track: a signed, expiring address (a <track> element sends no form)."""
    try:
        caption_id = track_signer().loads(token, max_age=current_app.config["SIGNED_URL_TTL"])
    except BadSignature:
        abort(404)
    found = db.session.get(Caption, caption_id) if isinstance(caption_id, int) else None
    if found is None:
        abort(404)
    response = _vtt_response(found.vtt)
    response.cache_control.private = True
    response.cache_control.max_age = 300
    return response


def _track_or_404(media_id, caption_id):
    media = get_owned_or_404(MediaFile, media_id)
    track = caption_of(media, caption_id)
    if track is None:
        abort(404)
    return media, track


def _vtt_response(text):
    response = make_response(text)
    response.headers["Content-Type"] = VTT_TYPE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
