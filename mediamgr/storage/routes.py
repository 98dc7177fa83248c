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
    response.cache_control.private = True
    response.cache_control.max_age = 300
    return response
