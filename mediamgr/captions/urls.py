"""The signed address a player loads a caption track from (captions.routes.track serves it)."""
from flask import current_app, request
from itsdangerous import URLSafeTimedSerializer


def track_url(caption):
    """Signed and expiring like every file's address; it changes when the track does."""
    return f"{request.script_root}/tracks/{track_signer().dumps(caption.id)}.vtt?v={caption.updated_at.timestamp():.6f}"


def track_signer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="mediamgr-caption-track")
