"""Where stored bytes live: one interface, a local-disk and an S3/B2 implementation chosen by
STORAGE_BACKEND. Routes and jobs call get_storage() and never ask which one they have."""
from flask import Blueprint, current_app

bp = Blueprint("storage", __name__)


def content_key(owner_id, sha256):
    """Content-addressed per owner: the same bytes uploaded twice are stored once."""
    return f"users/{owner_id}/media/{sha256}"


def thumbnail_key(owner_id, sha256):
    return f"users/{owner_id}/thumbs/{sha256}.webp"


def rendition_key(owner_id, sha256, spec):
    """An image made from the file (a PDF's page): shared by identical files, like the file itself."""
    return f"users/{owner_id}/renditions/{sha256}/{spec}.webp"


def init_app(app):
    if app.config["STORAGE_BACKEND"] == "s3":
        from .s3 import S3Storage
        app.extensions["storage"] = S3Storage.from_config(app.config)
    else:
        from .local import LocalStorage
        from . import routes  # noqa: F401  (local bytes are served by our own signed route)
        app.extensions["storage"] = LocalStorage.from_config(app.config)
        app.register_blueprint(bp)


def get_storage():
    return current_app.extensions["storage"]
