"""The local backend's signed file route: serves stored bytes with HTTP Range until the token expires."""
from flask import abort, current_app, send_file

from . import bp, get_storage
from .local import FILES_PATH
from .signing import read_file_token


@bp.get(f"{FILES_PATH}<token>")
def serve_signed_file(token):
    """Serve a stored object named by a signed token; an expired or forged token answers 404."""
    payload = read_file_token(current_app.config["SECRET_KEY"], token)
    if payload is None:
        abort(404)
    path = get_storage().path_for(payload["k"])
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=payload["t"], conditional=True, etag=True,
                         as_attachment=payload["d"] == "attachment", download_name=payload["n"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Uploaded bytes never act on the app's origin: an HTML, SVG or PDF opened from here runs no
    # script with the app's cookies, and other sites cannot embed it.
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
    response.headers["Cross-Origin-Resource-Policy"] = "same-site" if current_app.config.get("CDN_BASE_URL") else "same-origin"
    response.cache_control.private = True
    response.cache_control.max_age = 300
    return response
