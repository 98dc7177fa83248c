"""What the details of a video or audio file show of its analysis: the chapter markers with the
player's chapters track, and the quality report."""
import hashlib

from flask import current_app, request

from ..captions.urls import track_signer
from ..storage import get_storage
from .analysis import report_of
from .markers import chapters_vtt, clock, markers_of
from .playable import codec_name
from .processing import CORNERS, watermark_images, web_rendition_of


def chapters_track_url(media, markers):
    """The player's signed address of the chapters track; it changes whenever the markers do."""
    version = hashlib.sha1(chapters_vtt(media, markers).encode()).hexdigest()[:12]
    return f"{request.script_root}/chapter-tracks/{track_signer().dumps(['chapters', media.id])}.vtt?v={version}"


def chapters_context(media):
    """The markers with their frame's address, the chapters track's address, and the analysis row of
    the current content (its state and quality report), with the loudness image's address."""
    storage, ttl = get_storage(), current_app.config["SIGNED_URL_TTL"]
    markers = markers_of(media) if media.kind == "video" else []
    frames = {m.id: storage.signed_url(m.thumbnail_key, "chapter.webp", "image/webp", ttl=ttl)
              for m in markers if m.thumbnail_key}
    analysis = report_of(media) if media.kind in ("video", "audio") else None
    sparkline = (storage.signed_url(analysis.sparkline_key, "loudness.png", "image/png", ttl=ttl)
                 if analysis is not None and analysis.sparkline_key else None)
    board = (f"{request.script_root}/storyboard-tracks/{track_signer().dumps(['storyboard', media.id])}.vtt"
             if analysis is not None and analysis.storyboard else None)
    return {"markers": markers, "marker_frames": frames, "analysis": analysis, "loudness_image": sparkline,
            "storyboard_track": board,
            "chapters_track": chapters_track_url(media, markers) if media.kind == "video" else None, "clock": clock,
            "codec_name": codec_name, **processing_context(media)}


def storyboard_vtt(board):
    """The stored storyboard's WebVTT with each sprite's name replaced by its signed address."""
    storage, ttl = get_storage(), current_app.config["SIGNED_URL_TTL"]
    vtt = board["vtt"]
    for name, key in board["sprites"].items():
        vtt = vtt.replace(f"{name}#", storage.signed_url(key, name, "image/jpeg", ttl=ttl) + "#")
    return vtt


def processing_context(media):
    """What the Processing section offers: the web rendition the preview plays (if any), and the
    images of the owner's library a watermark can be made of."""
    if media.kind not in ("video", "audio"):
        return {}
    images = watermark_images(media.owner_id) if media.kind == "video" else []
    return {"web_copy": web_rendition_of(media), "watermark_images": images, "corners": CORNERS}
