"""The automatic captions job (captions.transcribe queues it on the `processing` queue): fetch the
file, let the TRANSCRIBE_BACKEND turn its speech into cues, and keep them as the language's track
through the upload's own rule (add_captions)."""
import logging
import tempfile
from pathlib import Path

from flask import current_app

from ..captions.languages import LANGUAGES
from ..captions.service import add_captions
from ..captions.transcribe import AUTOMATIC, cues_as_vtt, transcriber
from ..extensions import db
from ..library.models import MediaFile
from ..library.service import EditRefused
from ..storage import get_storage
from . import with_app_context

log = logging.getLogger(__name__)


@with_app_context
def transcribe_media(media_id, sha256, language):
    media = db.session.get(MediaFile, media_id)
    if media is None or media.sha256 != sha256 or media.in_trash:
        return
    with tempfile.TemporaryDirectory(prefix="mediamgr-transcribe-") as folder:
        path = Path(folder) / "content"
        get_storage().download_to(media.storage_key, path)
        cues = list(transcriber()(path, language, current_app.config["TRANSCRIBE_MODEL"]))
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
