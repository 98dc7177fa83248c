"""Automatic captions: a pluggable backend turns a file's speech into cues, in a job on the processing
queue (jobs.transcription); the cues become the track of the chosen language, as an uploaded file
would (add_captions).
TRANSCRIBE_BACKEND names the backend: unset (off: the Captions section says how to turn it on),
"faster-whisper" (captions.whisper, the optional extra `mediamgr[transcribe]`; the model is fetched on
the worker's machine on first use, never by the default install or the tests) or "module:function", a
function (path, language, model) -> iterable of (start seconds, end seconds, text)."""
import importlib

import redis
from flask import current_app

from ..jobs.names import PROCESSING, get_queue
from ..library.service import EditRefused
from .formats import vtt_clock
from .languages import LANGUAGES

BACKENDS = {"faster-whisper": "mediamgr.captions.whisper:transcribe"}
AUTOMATIC = " (automatic)"  # the label of a track made from speech: "English (automatic)"


def backend_name():
    return current_app.config.get("TRANSCRIBE_BACKEND") or ""


def transcriber():
    """The backend's function (path, language, model) -> (start, end, text) of each cue."""
    name = backend_name()
    module, _, function = BACKENDS.get(name, name).partition(":")
    return getattr(importlib.import_module(module), function)


def enqueue_transcription(media, language):
    """Queue automatic captions in `language`; False when Redis cannot take the job."""
    if language not in LANGUAGES:
        raise EditRefused("Choose the language spoken in the file from the list.")
    try:
        get_queue(PROCESSING).enqueue("mediamgr.jobs.transcription.transcribe_media", media.id, media.sha256, language,
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
