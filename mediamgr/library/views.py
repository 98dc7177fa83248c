"""What the library's views render: the details context and the answers after an edit."""
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit

import humanize
import sqlalchemy as sa
from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from ..captions.forms import CaptionForm
from ..captions.languages import LANGUAGES
from ..captions.service import CAPTIONED_KINDS, captions_of
from ..captions.transcribe import backend_name as transcribe_backend_name
from ..captions.urls import track_url
from ..courses.usage import places, removed_links, where_used_text
from ..extensions import db
from ..htmx import close_dialog, is_htmx, trigger
from ..jobs.queues import enqueue_document_pages
from ..scoping import sees_everyone
from ..storage import get_storage
from ..storage.signing import window_for
from ..upload.names import split_extension
from ..upload.service import can_retry, latest_upload_operation
from ..video.processing import web_rendition_of
from ..video.views import chapters_context
from .alt_text import suggested_alt_text
from .forms import DetailsForm, RenameForm, TagForm
from .models import MediaEvent, Rendition
from .queries import category_suggestions
from .versions import listed as listed_versions

HISTORY_LIMIT = 100


def thumbnail_url(media):
    if not media.thumbnail_key:
        return None
    return get_storage().signed_url(media.thumbnail_key, "thumbnail.webp", "image/webp",
                                    ttl=current_app.config["SIGNED_URL_TTL"])


def card_urls():
    """What every card of a page links with, built once per page rather than once per card:
    the details URL's prefix, the tag filter's prefix, and whether cards name their owner."""
    details = url_for("library.details", media_id=0)
    return {"details": details[: -len("0")], "tag": url_for("library.index") + "?tag=",
            "show_owner": sees_everyone()}


def media_urls(media):
    """Signed, expiring URLs for a file's preview, download and thumbnail. A PDF is previewed by its
    page images (`pages`), never opened inline: its own scripts must not run on the app's origin."""
    storage, ttl = get_storage(), current_app.config["SIGNED_URL_TTL"]
    urls = {"thumbnail": thumbnail_url(media), "preview": None, "download": None, "pages": []}
    if media.ready_at:
        urls["download"] = storage.signed_url(media.storage_key, media.name, media.mime_type, "attachment", ttl)
        if media.kind == "document":
            urls["pages"] = [(page, storage.signed_url(page.storage_key, f"{page.spec}.webp", "image/webp", ttl=ttl))
                             for page in document_pages(media)]
            if media.mime_type == "application/pdf" and not urls["pages"]:
                enqueue_document_pages(media)  # uploaded before page images were made, or new content
        elif (web := web_rendition_of(media) if media.kind in ("video", "audio") else None) is not None:
            # A file browsers can't play is played from its web rendition; the original stays the download.
            stem = split_extension(media.name)[0]
            extension = web.storage_key.rsplit(".", 1)[-1]
            urls["preview"] = storage.signed_url(web.storage_key, f"{stem}.{extension}",
                                                 "video/mp4" if extension == "mp4" else "audio/mp4", ttl=ttl)
        else:
            urls["preview"] = storage.signed_url(media.storage_key, media.name, media.mime_type, ttl=ttl)
    return urls


def viewed_inline(kind):
    """Whether a file's address opens it in the browser (video, audio, images) or downloads it: a
    document always downloads, as a PDF's own scripts must not run on the app's origin."""
    return kind != "document"


def share_link(media):
    """The "Copy link" of a ready file in the library: a signed address of its bytes that works for
    SHARE_LINK_DAYS without signing in, and when it stops working. None for a file without one."""
    if not media.ready_at or media.in_trash:
        return None
    ttl = current_app.config["SHARE_LINK_DAYS"] * 86400
    url = get_storage().signed_url(media.storage_key, media.name, media.mime_type,
                                   "inline" if viewed_inline(media.kind) else "attachment", ttl)
    # A signed address is reused for a while (storage.signing.window_for): the one handed out may be
    # that much older, so the expiry said is the earliest it can be, never later than the real one.
    expires = datetime.fromtimestamp(time.time() - window_for(ttl) + ttl, timezone.utc).replace(tzinfo=None)
    return {"url": urljoin(current_app.config["PUBLIC_URL"] or request.url_root, url), "expires_at": expires,
            "lifetime": humanize.naturaldelta(timedelta(seconds=ttl)), "date": f"{expires:%-d %b %Y}"}


def document_pages(media):
    """The stored page images of a document, in page order."""
    rows = db.session.scalars(sa.select(Rendition).where(Rendition.media_id == media.id,
                                                         Rendition.spec.like("page-%"))).all()
    return sorted(rows, key=lambda row: int(row.spec.split("-", 1)[1]))


def version_rows(media):
    """(version, preview or download URL, thumbnail URL) for each version, newest first. A document's
    is a download: a PDF never opens on the app's origin."""
    storage, ttl = get_storage(), current_app.config["SIGNED_URL_TTL"]
    rows = []
    for version in listed_versions(media):
        url = storage.signed_url(version.storage_key, version.original_name, version.mime_type,
                                 "inline" if viewed_inline(version.kind) else "attachment", ttl)
        thumb = (storage.signed_url(version.thumbnail_key, "thumbnail.webp", "image/webp", ttl=ttl)
                 if version.thumbnail_key else None)
        rows.append((version, url, thumb))
    return rows


def on_details_page():
    """Whether the details are the page itself (loaded, or refreshed from it) rather than the dialog."""
    return not is_htmx() or request.headers.get("X-Details-Page") == "true"


def caption_tracks(media):
    """(track, the player's signed address) of each of the file's caption tracks."""
    if media.kind not in CAPTIONED_KINDS:
        return []
    return [(track, track_url(track)) for track in captions_of(media)]


def details_context(media, rename_form=None, details_form=None, tag_form=None, caption_form=None):
    history = db.session.scalars(db.select(MediaEvent).where(MediaEvent.media_id == media.id)
                                 .order_by(MediaEvent.created_at.desc(), MediaEvent.id.desc()).limit(HISTORY_LIMIT))
    stem, extension = split_extension(media.name)
    return {
        "places": places([media.id]).get(media.id, []),
        "removed_links": removed_links([media.id]).get(media.id, []) if media.in_trash else [],
        "media": media,
        "urls": media_urls(media),
        "versions": version_rows(media),
        "history": list(history),
        "extension": extension,
        "rename_form": rename_form or RenameForm(formdata=None, name=stem),
        "details_form": details_form or DetailsForm(formdata=None, obj=media),
        "tag_form": tag_form or TagForm(formdata=None),
        "captions": caption_tracks(media),
        "caption_form": caption_form or CaptionForm(formdata=None, prefix="captions"),
        "languages": LANGUAGES,
        "transcribe_backend": transcribe_backend_name(),
        "categories": category_suggestions(current_user),
        "share": share_link(media),
        "alt_suggestion": suggested_alt_text(media.name) if media.kind == "image" else "",
        "heading": 1 if on_details_page() else 2,  # the page's h1; in the dialog, under the page's own
        "retryable": media.status in ("failed", "processing") and can_retry(latest_upload_operation(media)),
        **chapters_context(media),
    }


def after_edit(media, message, status=200, **forms):
    """The dialog's body and the file's card again (htmx), or back to the details page (no JavaScript)."""
    if not is_htmx():
        flash(message, "error" if status >= 400 else "success")
        return redirect(url_for("library.details", media_id=media.id))
    if status >= 400 and status != 422:  # refused outright: the page shows the message as a toast
        return message, status, {"Content-Type": "text/plain; charset=utf-8"}
    html = render_template("library/_details_body.html", **details_context(media, **forms), toast=message,
                           oob_card=True)
    return make_response(html, status)


def after_removal(media, message, undo_url=None, back="library.index"):
    """The card leaves the grid, the dialog closes and a toast says what happened (with Undo)."""
    if not is_htmx():
        flash(message, "success")
        return redirect(url_for(back))
    if on_details_page():  # the full details page, not the dialog: leave it
        flash(message, "success")
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url_for(back)
        return response
    on_trash_page = urlsplit(request.headers.get("HX-Current-URL", "")).path == url_for("library.trash_index")
    remove_ids = [f"trash-{media.id}"] if on_trash_page else ([f"media-{media.id}"] if media.in_trash else [])
    response = make_response(render_template("library/_removed.html", media=media, message=message,
                                             undo_url=undo_url, remove_ids=remove_ids))
    return close_dialog(trigger(response, "media-changed"))  # counts and empty states refresh too


def in_use_answer(media, file_places):
    """The file is used in courses: a dialog saying where (htmx), or the details page with the
    reason (no JavaScript)."""
    if not is_htmx():
        flash(f"“{media.name}” was not moved to the trash. {where_used_text(file_places)}", "error")
        return redirect(url_for("library.details", media_id=media.id))
    response = make_response(render_template("library/_in_use_dialog.html", media=media, places=file_places))
    response.headers["HX-Retarget"] = "#dialog-root"
    response.headers["HX-Reswap"] = "innerHTML"
    return response
