"""Processing jobs on a video or audio file (queued here, run by jobs.processing), each an operation in the Activity panel (progress, Cancel,
Retry) run on the `processing` queue: Trim, Normalise loudness, Watermark and Make web-playable change
the file's content, and their result comes back through the upload path as the file's next version
(the earlier one stays in the version list, to restore); Extract audio adds a new file to the library.
A web rendition of a file browsers cannot play is kept beside it instead (a Rendition the preview
plays; the original stays the download)."""
import uuid

import redis
import sqlalchemy as sa
from rq.job import Callback

from ..extensions import db
from ..jobs.names import PROCESSING, get_queue
from ..library.batch import IN_TRASH, Outcome
from ..library.service import EditRefused
from ..parsing import parse_count, parse_id
from ..library.models import MediaFile, Rendition
from ..progress.models import Operation
from ..progress.publisher import publish_operation
from ..scoping import get_owned_or_404, owned_by
from ..timeutil import utcnow
from .markers import clock
from .models import QualityReport
from .transforms import CORNERS as WATERMARK_CORNERS

TARGET_LUFS = -16.0
CORNERS = dict(zip(WATERMARK_CORNERS, ("Top left", "Top right", "Bottom left", "Bottom right")))  # what the forms say
WEB_SPEC = "web"
# What each job does: the kinds it takes, its title, and where its result goes ("version", "new" or "web").
JOBS = {
    "trim": ({"video", "audio"}, "Trim “{name}” to {span}", "version"),
    "normalise": ({"video", "audio"}, "Normalise the loudness of “{name}”", "version"),
    "watermark": ({"video"}, "Watermark “{name}”", "version"),
    "extract_audio": ({"video"}, "Extract the audio of “{name}”", "new"),
    "web_rendition": ({"video", "audio"}, "Make “{name}” web-playable", "web"),
}
# A trim's times are of the content the user saw: it is not applied to a content that came meanwhile.
# The other jobs work on the file's content when they run (a Normalise right after a Watermark gets both).
SAME_CONTENT = {"trim"}
CHECK_CANCEL_EVERY = 2.0
WATERMARK_CHOICES = 50  # seconds between looks at the operation's cancel request


def start_processing(media, action, params, actor):
    """Queue `action` on the file (params checked by the caller: span, image, corner, opacity); returns
    the operation. EditRefused when the file can't have it."""
    refusal = refusal_for(media, action)
    if refusal:
        raise EditRefused(refusal)
    operation = _operation(media, action, params, actor.id if actor else media.owner_id)
    db.session.add(operation)
    db.session.commit()
    enqueue(operation)
    return operation


def refusal_for(media, action):
    """Why the file can't have `action`, or None: the one rule the details and the selection bar share."""
    kinds = JOBS[action][0]
    if media.in_trash:
        return IN_TRASH
    if not media.ready_at:
        return "The file is still being processed: try again when it is ready."
    if media.kind not in kinds:
        return f"Only {' and '.join(sorted(kind + 's' for kind in kinds))} can be processed this way."
    return None


def process_batch(batch, action, params):
    """The selection bar's Normalise loudness / Make web-playable: a processing operation per file that
    can have it (each with its own progress), queued once the batch is committed. A batch done again
    after a crash queues no file twice."""
    live, failures = batch.in_library()
    files = db.session.scalars(sa.select(MediaFile).where(MediaFile.id.in_([row.id for row in live]))).all()
    asked = {op.media_id for op in db.session.scalars(sa.select(Operation).where(
        Operation.kind == "processing", Operation.media_id.in_([m.id for m in files])))
        if batch.operation_id and op.details.get("bulk_id") == batch.operation_id}
    made = []
    for media in files:
        refusal = refusal_for(media, action)
        if refusal is None and action == "web_rendition":
            refusal = _plays_already(media)
        if refusal:
            failures[media.id] = refusal
        elif media.id not in asked:
            made.append(_operation(media, action, params, batch.actor_id or media.owner_id, bulk_id=batch.operation_id))
    db.session.add_all(made)
    db.session.flush()
    jobs = [(op.id, op.job_id, op.title) for op in made]
    if jobs:  # the jobs must find their rows: queued when the batch's transaction is in
        sa.event.listen(db.session(), "after_commit", lambda _session: [_enqueue_job(*job) for job in jobs], once=True)
    return Outcome(changed=[op.media_id for op in made], failures=failures)


def watermark_params(form):
    """A watermark's image (one of the user's ready images: another user's is 404), corner and
    opacity from a form: the details' Watermark and the selection bar's Watermark… both read it here."""
    image_id = parse_id(form.get("image", ""))
    image = get_owned_or_404(MediaFile, image_id) if image_id else None
    if image is None or image.kind != "image" or image.in_trash or not image.ready_at:
        raise EditRefused("Choose an image from your library for the watermark.")
    if form.get("corner") not in CORNERS:
        raise EditRefused("Choose the corner for the watermark.")
    opacity = parse_count(form.get("opacity", ""), 100)
    if not opacity or opacity < 5:
        raise EditRefused("The opacity is a percentage from 5 to 100.")
    return {"image_id": image.id, "corner": form["corner"], "opacity": opacity / 100}


def watermark_images(owner_id):
    """The owner's images a watermark can be made of, newest first (the first WATERMARK_CHOICES)."""
    return db.session.scalars(owned_by(MediaFile, owner_id).where(MediaFile.kind == "image", MediaFile.deleted_at.is_(None),
                                                                  MediaFile.ready_at.is_not(None))
                              .order_by(MediaFile.created_at.desc()).limit(WATERMARK_CHOICES)).all()


def _plays_already(media):
    """Why a web rendition is not needed (the file's quality report says browsers play it, or it has
    one), or None."""
    if web_rendition_of(media) is not None:
        return "It has a web-playable copy already."
    report = db.session.get(QualityReport, media.id)
    if report is not None and report.sha256 == media.sha256 and report.report and report.report.get("playable"):
        return "Browsers play it as it is."
    return None


def _operation(media, action, params, actor_id, bulk_id=None):
    title = JOBS[action][1]
    span = f"{clock(params['start'])}–{clock(params['end'])}" if action == "trim" else ""
    details = {"action": action, "params": params, "sha256": media.sha256, "actor_id": actor_id}
    if bulk_id:
        details["bulk_id"] = bulk_id
    return Operation(owner_id=media.owner_id, kind="processing", title=title.format(name=media.name, span=span),
                     stage="queued", total=100, media_id=media.id, job_id=str(uuid.uuid4()), details=details)


def enqueue(operation):
    if not _enqueue_job(operation.id, operation.job_id, operation.title):
        finish_processing(operation, "failed", "The background service is unavailable right now. Press Retry in a moment.")
        return False
    publish_operation(operation)
    return True


def _enqueue_job(operation_id, job_id, title):
    try:
        get_queue(PROCESSING).enqueue("mediamgr.jobs.processing.run_processing", operation_id, job_id=job_id,
                                      job_timeout=12 * 3600, result_ttl=600, failure_ttl=7 * 86400,
                                      on_failure=Callback("mediamgr.jobs.processing.processing_job_failed"),
                                      description=f"processing {operation_id}: {title}")
    except redis.RedisError:
        return False
    return True


def retry_processing(operation):
    """A failed processing operation, queued again from the start."""
    if operation.kind != "processing" or operation.status != "failed":
        return False
    operation.status, operation.error, operation.finished_at, operation.processed = "queued", None, None, 0
    operation.stage, operation.cancel_requested, operation.job_id = "queued", False, str(uuid.uuid4())
    db.session.commit()
    return enqueue(operation)


def web_rendition_of(media):
    return db.session.scalar(sa.select(Rendition).where(Rendition.media_id == media.id, Rendition.spec == WEB_SPEC))


def finish_processing(operation, status, error=None):
    operation.status, operation.error, operation.finished_at = status, error, utcnow()
    operation.stage = status
    if status == "succeeded":
        operation.processed = operation.total
    db.session.commit()
    publish_operation(operation)


