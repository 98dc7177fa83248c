"""Reading what a stored file holds: duration, dimensions and codecs (PyAV for time-based media,
Pillow for images, pdfium for PDFs)."""
import logging
from dataclasses import dataclass

import av
import pypdfium2
from PIL import ImageOps

from .budgets import OverBudget, open_image, too_large_for_memory

log = logging.getLogger(__name__)


class MediaUnreadable(Exception):
    """The file's content cannot be decoded; the message is for the user (what the decoder said goes
    to the log, never to the page: it names server paths and error numbers)."""


WHAT_IT_SHOULD_BE = {"video": "a video", "image": "an image", "audio": "an audio file", "document": "a document"}


def unreadable(kind):
    return MediaUnreadable(f"The {kind} could not be read: it is damaged or not {WHAT_IT_SHOULD_BE.get(kind, 'a file')}.")


@dataclass
class MediaFacts:
    kind: str
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    pages: int | None = None


def probe_media(path, kind):
    try:
        if kind == "image":
            return _probe_image(path)
        if kind in ("video", "audio"):
            return _probe_av(path, kind)
        if kind == "document" and is_pdf(path):
            return _probe_pdf(path)
        return MediaFacts(kind=kind)
    except (MediaUnreadable, OverBudget):
        raise
    except MemoryError as error:
        raise too_large_for_memory() from error
    except (av.FFmpegError, OSError, ValueError, pypdfium2.PdfiumError) as error:
        log.info("%s at %s could not be read: %s", kind, path, error)
        raise unreadable(kind) from error


def _probe_image(path):
    with open_image(path) as image:
        width, height = ImageOps.exif_transpose(image).size if image.getexif() else image.size
        return MediaFacts(kind="image", width=width, height=height, video_codec=(image.format or "").lower() or None)


def _probe_av(path, kind):
    with av.open(str(path), metadata_errors="ignore") as container:
        video = next((s for s in container.streams.video if not _is_cover_art(s)), None)
        audio = next(iter(container.streams.audio), None)
        if video is None and audio is None:
            raise MediaUnreadable("The file has no audio or video streams that could be read.")
        duration = _duration(container, video or audio)
        return MediaFacts(
            kind="video" if video is not None else "audio",
            duration_seconds=duration,
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            video_codec=video.codec_context.name if video is not None else None,
            audio_codec=audio.codec_context.name if audio is not None else None,
        )


def _is_cover_art(stream):
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _duration(container, stream):
    if container.duration:
        return container.duration / av.time_base
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def is_pdf(path):
    with open(path, "rb") as handle:
        return handle.read(5) == b"%PDF-"


def _probe_pdf(path):
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        if len(pdf) == 0:
            return MediaFacts(kind="document", pages=0)
        width, height = pdf[0].get_size()
        return MediaFacts(kind="document", width=round(width), height=round(height), pages=len(pdf))
    finally:
        pdf.close()
