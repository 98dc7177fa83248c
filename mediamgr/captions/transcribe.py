"""Automatic captions: a pluggable backend turns a file's speech into cues, in a job on the processing
queue; the cues become the track of the chosen language, as an uploaded file would (add_captions).
TRANSCRIBE_BACKEND names the backend: unset (off: the Captions section says how to turn it on),
"faster-whisper" (captions.whisper, the optional extra `mediamgr[transcribe]`; the model is fetched on
the worker's machine on first use, never by the default install or the tests) or "module:function", a
function (path, language, model) -> iterable of (start seconds, end seconds, text)."""
import importlib
import logging
import tempfile
from pathlib import Path

import redis
from flask import current_app

from ..extensions import db
from ..jobs import with_app_context
from ..jobs.names import PROCESSING, get_queue
from ..library.models import MediaFile
from ..library.service import EditRefused
from ..storage import get_storage
from .formats import vtt_clock
from .languages import LANGUAGES
from .service import add_captions

log = logging.getLogger(__name__)
BACKENDS = {"faster-whisper": "mediamgr.captions.whisper:transcribe"}
AUTOMATIC = " (automatic)"


def backend_name():
    return current_app.config.get("TRANSCRIBE_BACKEND") or ""


def _backend():
    name = backend_name()
    module, _, function = BACKENDS.get(name, name).partition(":")
    return getattr(importlib.import_module(module), function)


def enqueue_transcription(media, language):
    """Queue automatic captions in `language`; False when Redis cannot take the job."""
    if language not in LANGUAGES:
        raise EditRefused("Choose the language spoken in the file from the list.")
    try:
        get_queue(PROCESSING).enqueue("mediamgr.captions.transcribe.transcribe_media", media.id, media.sha256, language,
                                      job_timeout=12 * 3600, result_ttl=600, failure_ttl=7 * 86400,
                                      description=f"automatic {language} captions of media {media.id}")
    except redis.RedisError:
        return False
    return True


def cues_as_vtt(cues):
    lines = ["WEBVTT", ""]
    for start, end, text in cues:
        text = " ".join(str(text).split()).replace("-->", "→")
        if text and end > start:
            lines += [f"{vtt_clock(start)} --> {vtt_clock(end)}", text, ""]
    return "\n".join(lines)


@with_app_context
def transcribe_media(media_id, sha256, language):
    media = db.session.get(MediaFile, media_id)
    if media is None or media.sha256 != sha256 or media.in_trash:
        return
    with tempfile.TemporaryDirectory(prefix="mediamgr-transcribe-") as folder:
        path = Path(folder) / "content"
        get_storage().download_to(media.storage_key, path)
        cues = list(_backend()(path, language, current_app.config["TRANSCRIBE_MODEL"]))
    db.session.rollback()
    media = db.session.get(MediaFile, media_id)
    if media is None or media.sha256 != sha256:
        return
    try:
        add_captions(media, cues_as_vtt(cues).encode(), "automatic captions.vtt", language,
                     LANGUAGES[language] + AUTOMATIC, None)
    except EditRefused as refusal:  # no speech found, or the file went to the trash meanwhile
        log.info("automatic captions of media %s not kept: %s", media_id, refusal)
        db.session.rollback()
        return
    db.session.commit()
