"""The analysis job of a video or audio file's current content (queued by video.analysis): its
quality report (video.quality) with a loudness image; for a video, chapter markers proposed from
scene changes (video.chapters) with a frame of each, and a storyboard; a file browsers can't play
gets its web rendition queued (AUTO_WEB_RENDITION). A result of older content is never kept."""
import logging
import tempfile
from pathlib import Path

import av
import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..library.models import MediaFile, Rendition
from ..library.service import EditRefused
from ..progress.models import Operation
from ..storage import get_storage, rendition_key
from ..storage.base import StorageError
from ..video.analysis import ANALYSED_KINDS, ATTENTION_SCORE, mark_queued, report_of
from ..video.chapters import propose_markers, scene_changes
from ..video.markers import markers_of, put_proposed
from ..video.models import QualityReport
from ..video.processing import start_processing, web_rendition_of
from ..video.quality import analyse, loudness_sparkline
from ..video.storyboard import storyboard
from ..video.transforms import ProcessingFailed
from . import with_app_context
from .thumbnails import frame_at, save_thumbnail

log = logging.getLogger(__name__)
MARKER_FRAME_BOX = (320, 180)


@with_app_context
def analyse_media(media_id, sha256):
    media = db.session.get(MediaFile, media_id)
    if media is None or media.sha256 != sha256 or media.kind not in ANALYSED_KINDS or media.deleted_at is not None:
        return
    row = report_of(media) or mark_queued(media)
    row.status = "running"
    db.session.commit()
    with tempfile.TemporaryDirectory(prefix="mediamgr-analysis-") as folder:
        path = Path(folder) / "content"
        try:
            get_storage().download_to(media.storage_key, path)
            report = analyse(path)
        except StorageError:
            raise  # RQ's retry: the bytes are there, storage was not
        except (av.FFmpegError, ValueError, OSError) as error:
            log.info("media %s could not be analysed: %s", media_id, error)
            _failed(media_id, sha256, "The file could not be analysed: it could not be read to the end.")
            return
        if not _still_current(media_id, sha256):
            return
        media = db.session.get(MediaFile, media_id)
        row = db.session.get(QualityReport, media_id)
        sparkline = loudness_sparkline(report)
        if sparkline:
            row.sparkline_key = _store_image(media, "loudness", sparkline, folder, "png")
        if not report.playable:
            _make_web_playable(media)
        if media.kind == "video":
            _propose_chapters(media, path)
            marker_frames(media, path, folder)
            _storyboard(media, row, path, folder)
        # Ready last: the details poll until then, and take the report, chapters and storyboard together.
        row.report, row.status, row.failure_reason = report.to_json(), "ready", None
        media.quality_score = report.score
        media.needs_attention = report.score < ATTENTION_SCORE or any(f.severity == "problem" for f in report.findings)
        db.session.commit()


def _make_web_playable(media):
    """A file browsers can't play gets its web rendition (AUTO_WEB_RENDITION), once per content."""
    if not current_app.config["AUTO_WEB_RENDITION"] or web_rendition_of(media) is not None:
        return
    if any(op.details.get("action") == "web_rendition" and op.details.get("sha256") == media.sha256
           for op in db.session.scalars(sa.select(Operation).where(Operation.media_id == media.id,
                                                                   Operation.kind == "processing"))):
        return  # asked for already (a retry of the analysis, or by hand)
    try:
        start_processing(media, "web_rendition", {}, None)
    except EditRefused:
        pass  # in the trash meanwhile


def _storyboard(media, row, path, folder):
    """Frames every few seconds in JPEG sprites, which the player's strip shows on hover (a nicety:
    a video it can't be made of has none)."""
    try:
        board = storyboard(path, Path(folder))
    except ProcessingFailed as error:
        log.info("no storyboard for media %s: %s", media.id, error)
        return
    sprites = {}
    for number, sprite in enumerate(board.sprite_paths, start=1):
        sprite = Path(sprite)
        sprites[sprite.name] = _store_image(media, f"storyboard-{number}", sprite.read_bytes(), folder, "jpeg")
    row.storyboard = {"vtt": board.vtt, "sprites": sprites, "interval": board.interval}
    db.session.commit()


def _propose_chapters(media, path):
    """New proposals replace the detected markers (a retry proposes the same ones again)."""
    proposed = propose_markers(scene_changes(path), media.duration_seconds)
    put_proposed(media, proposed)
    db.session.commit()


@with_app_context
def make_marker_frames(media_id, sha256):
    """Frames of the markers that lack one (moved or added by the instructor)."""
    media = db.session.get(MediaFile, media_id)
    if media is None or media.sha256 != sha256 or media.kind != "video":
        return
    with tempfile.TemporaryDirectory(prefix="mediamgr-frames-") as folder:
        path = Path(folder) / "content"
        get_storage().download_to(media.storage_key, path)
        marker_frames(media, path, folder)


def marker_frames(media, path, folder):
    """A frame of each marker that has none of the current content (detected, moved or added)."""
    of_this_content = rendition_key(media.owner_id, media.sha256, "any").rsplit("/", 1)[0] + "/"
    waiting = [m for m in markers_of(media) if not (m.thumbnail_key or "").startswith(of_this_content)]
    if not waiting:
        return
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = next(iter(container.streams.video), None)
        if stream is None:
            return
        for marker in waiting:
            frame = frame_at(container, stream, marker.seconds + 0.1)
            if frame is None:
                continue
            image = frame.to_image()
            image.thumbnail(MARKER_FRAME_BOX)
            target = Path(folder) / "frame.webp"
            save_thumbnail(image, target)
            marker.thumbnail_key = _store_image(media, f"chapter-{round(marker.seconds * 1000)}", target.read_bytes(),
                                                folder, "webp", image.size)
    db.session.commit()


def _store_image(media, spec, data, folder, extension, size=(0, 0)):
    """An image made from the content, stored like a PDF's page images (a Rendition: shared by
    identical files, removed with the content)."""
    key = rendition_key(media.owner_id, media.sha256, spec)
    if extension != "webp":
        key = key.rsplit(".", 1)[0] + f".{extension}"
    path = Path(folder) / f"{spec}.{extension}"
    path.write_bytes(data)
    get_storage().put_file(key, path, f"image/{extension}")
    existing = db.session.scalar(sa.select(Rendition).where(Rendition.media_id == media.id, Rendition.spec == spec))
    if existing is None:
        db.session.add(Rendition(media_id=media.id, spec=spec, storage_key=key, width=size[0], height=size[1],
                                 size_bytes=len(data)))
    else:
        existing.storage_key, existing.size_bytes = key, len(data)
    return key


def _still_current(media_id, sha256):
    db.session.rollback()
    media = db.session.get(MediaFile, media_id)
    return media is not None and media.sha256 == sha256


def _failed(media_id, sha256, reason):
    if not _still_current(media_id, sha256):
        return
    row = db.session.get(QualityReport, media_id)
    row.status, row.failure_reason = "failed", reason
    db.session.commit()
