"""The analysis of a video or audio file's current content: its report row (the state the details
show, of the current content only) and the jobs that make it, queued on the `processing` queue
after an upload or a replacement is ready and after a version is restored (jobs.video_analysis
runs them: the quality report, chapter markers, frames and the storyboard)."""
import redis
from rq import Retry

from ..extensions import db
from ..jobs.names import PROCESSING, get_queue
from .models import QualityReport

ANALYSED_KINDS = ("video", "audio")
# What makes a file "need attention" (the library filter): a problem-level finding, or a low score.
ATTENTION_SCORE = 70


def report_of(media):
    """The file's quality report row, when it is of the current content."""
    row = db.session.get(QualityReport, media.id)
    return row if row is not None and row.sha256 == media.sha256 else None


def mark_queued(media):
    """The report is being made (the details say so until it is ready)."""
    row = db.session.get(QualityReport, media.id)
    if row is None:
        row = QualityReport(media_id=media.id, owner_id=media.owner_id, sha256=media.sha256)
        db.session.add(row)
    row.sha256, row.status, row.report, row.failure_reason, row.sparkline_key = media.sha256, "queued", None, None, None
    row.storyboard = None
    return row


def enqueue_analysis(media):
    """Queue the quality report and chapter proposal of a video's or audio file's current content
    (video.analysis); the details say it is being made. When Redis cannot take it the details offer
    to analyse again."""
    if media.kind not in ANALYSED_KINDS:
        return False
    mark_queued(media)
    db.session.commit()
    try:
        get_queue(PROCESSING).enqueue("mediamgr.jobs.video_analysis.analyse_media", media.id, media.sha256,
                                      job_timeout=6 * 3600, result_ttl=600, failure_ttl=7 * 86400,
                                      retry=Retry(max=2, interval=[30, 120]),
                                      description=f"analyse media {media.id}")
    except redis.RedisError:
        return False
    return True


def enqueue_marker_frames(media):
    try:
        get_queue(PROCESSING).enqueue("mediamgr.jobs.video_analysis.make_marker_frames", media.id, media.sha256,
                                      job_timeout=3600, result_ttl=600, failure_ttl=86400,
                                      description=f"chapter frames of media {media.id}")
    except redis.RedisError:
        pass  # the markers show without their frame until the next one is asked for
