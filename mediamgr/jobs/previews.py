"""Page images of PDFs: what the details show instead of the PDF itself, so a document's own
scripts (an /OpenAction, say) never run on the app's origin, and a phone shows the pages without a
PDF viewer. Each page is rendered within a pixel budget, however large the page claims to be."""
import logging
import tempfile
from pathlib import Path

import pypdfium2
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..library.models import MediaFile, Rendition
from ..library.trash import schedule_deletion
from ..storage import get_storage, rendition_key
from . import with_app_context
from .budgets import page_scale
from .probe import is_pdf

log = logging.getLogger(__name__)
PREVIEW_PAGES = 20  # the first pages are shown; the rest are a download away
PAGE_BOX = (1280, 1800)  # at most this wide and tall, in pixels
MAX_PAGE_PIXELS = 3_000_000


def page_spec(number):
    return f"page-{number}"


def render_pages(path, limit=PREVIEW_PAGES):
    """(page count, a generator of (page number, PIL image)) for the first `limit` pages of the PDF at
    `path`: one page in memory at a time."""
    pdf = pypdfium2.PdfDocument(str(path))
    count = len(pdf)

    def pages():
        try:
            for index in range(min(count, limit)):
                page = pdf[index]
                scale = page_scale(*page.get_size(), PAGE_BOX, MAX_PAGE_PIXELS)
                if scale is not None:
                    yield index + 1, page.render(scale=scale).to_pil().convert("RGB")
        finally:
            pdf.close()

    return count, pages()


def store_document_pages(media, local_path):
    """Render and store the page images of `media` (its bytes at `local_path`) that it lacks yet; the
    page count goes on its row. Safe to run twice: pages already stored are kept. A file deleted
    meanwhile keeps no image behind (its key goes to pending_deletions)."""
    if media.kind != "document" or not is_pdf(local_path):
        return 0
    media_id, owner_id, sha256 = media.id, media.owner_id, media.sha256
    have = set(db.session.scalars(sa.select(Rendition.spec).where(Rendition.media_id == media_id)))
    pages, images = render_pages(local_path)
    media.page_count = pages
    db.session.commit()  # hold no transaction open while the images are stored
    made = 0
    with tempfile.TemporaryDirectory(prefix="mediamgr-pages-") as folder:
        for number, image in images:
            spec = page_spec(number)
            if spec in have:
                continue
            path = Path(folder) / f"{spec}.webp"
            image.save(path, "WEBP", quality=75, method=4)
            key = rendition_key(owner_id, sha256, spec)
            get_storage().put_file(key, path, "image/webp")
            db.session.add(Rendition(media_id=media_id, spec=spec, storage_key=key, width=image.width,
                                     height=image.height, size_bytes=path.stat().st_size))
            try:
                db.session.commit()
            except IntegrityError:  # the file was deleted while its pages were made
                db.session.rollback()
                schedule_deletion([key])
                db.session.commit()
                return made
            made += 1
    return made


@with_app_context
def make_document_pages(media_id):
    """For a stored PDF without page images (uploaded before they were made): fetch it and make them."""
    media = db.session.get(MediaFile, media_id)
    if media is None or not media.ready_at or media.kind != "document":
        return
    with tempfile.TemporaryDirectory(prefix="mediamgr-fetch-") as folder:
        path = Path(folder) / "document"
        get_storage().download_to(media.storage_key, path)
        store_document_pages(media, path)

