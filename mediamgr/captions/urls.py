"""The signed address a player loads a caption track from (captions.routes.track serves it)."""
from flask import current_app, make_response, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

VTT_TYPE = "text/vtt; charset=utf-8"


def track_url(caption):
    """Signed and expiring like every file's address; it changes when the track does."""
    return f"{request.script_root}/tracks/{track_signer().dumps(caption.id)}.vtt?v={caption.updated_at.timestamp():.6f}"


def track_signer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="mediamgr-caption-track")


def signed_track(token, kind=None):
    """What a track address signs (a caption's id, or [kind, media id] for a file's chapters or
    storyboard), while it has not expired; None for a forged, expired or other kind of address."""
    try:
        signed = track_signer().loads(token, max_age=current_app.config["SIGNED_URL_TTL"])
    except BadSignature:
        return None
    if kind is None:
        return signed if isinstance(signed, int) else None
    if isinstance(signed, list) and len(signed) == 2 and signed[0] == kind and isinstance(signed[1], int):
        return signed[1]
    return None


def vtt_response(text, player=False):
    """A WebVTT document; for the player (`player`), kept by the browser for five minutes, privately."""
    response = make_response(text)
    response.headers["Content-Type"] = VTT_TYPE
    response.headers["X-Content-Type-Options"] = "nosniff"
    if player:
        response.cache_control.private = True
        response.cache_control.max_age = 300
    return response
