"""The app's Request class: on the upload endpoint, multipart file parts stream straight into
hashing staging files (even when CSRF protection reads the form first), under the upload limit."""
import humanize
from flask import Request, current_app

from ..captions.formats import MAX_CAPTION_BYTES
from .space import ensure_room
from .staging import StagedFile

UPLOAD_ENDPOINTS = ("upload.upload_files", "upload.replace_file")  # new files, and new content for one
RESUMABLE_ENDPOINTS = ("upload.tus_create", "upload.tus_patch")  # their bodies are checked against Upload-Length
FORM_OVERHEAD = 1024 * 1024  # multipart boundaries and the other fields
IMPORT_ENDPOINT = "library.import_library"
MAX_IMPORT_BYTES = 250 * 10**6  # a library export of some 200,000 files; larger: `flask library import`
CAPTION_ENDPOINT = "captions.add"


def upload_limit_text():
    return humanize.naturalsize(current_app.config["MAX_UPLOAD_BYTES"], binary=True, format="%.0f")


def new_staged_file(filename="", incoming=0):
    """A staging file for an upload of `incoming` bytes (0: unknown); OutOfSpace (507) when the staging
    disk has no room for it above STAGING_RESERVE_BYTES."""
    ensure_room(incoming)
    config = current_app.config
    return StagedFile(config["STAGING_DIR"], config["MAX_UPLOAD_BYTES"], upload_limit_text(), filename)


class MediamgrRequest(Request):
    @property
    def max_content_length(self):
        if self.endpoint in UPLOAD_ENDPOINTS or self.endpoint in RESUMABLE_ENDPOINTS:
            return current_app.config["MAX_UPLOAD_BYTES"] + FORM_OVERHEAD
        if self.endpoint == IMPORT_ENDPOINT:
            return MAX_IMPORT_BYTES + FORM_OVERHEAD
        if self.endpoint == CAPTION_ENDPOINT:  # a caption file over its limit is told so (captions.formats)
            return 2 * MAX_CAPTION_BYTES + FORM_OVERHEAD
        return super().max_content_length

    @property
    def staged_files(self):
        if "mediamgr.staged" not in self.environ:
            self.environ["mediamgr.staged"] = []
        return self.environ["mediamgr.staged"]

    @property
    def upload_body(self):
        """The raw body of a one-file upload. A server that terminates the input itself
        (gunicorn) hands it over unwrapped: werkzeug's limit wrapper copies every chunk twice,
        halving throughput, and the staging file enforces the upload limit as it writes."""
        if self.environ.get("wsgi.input_terminated"):
            return self.environ["wsgi.input"]
        return self.stream

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        if self.endpoint not in UPLOAD_ENDPOINTS:
            return super()._get_file_stream(total_content_length, content_type, filename, content_length)
        staged = new_staged_file(filename or "", total_content_length or 0)
        self.staged_files.append(staged)
        return staged


def discard_unclaimed_uploads(_exception=None):
    """Teardown: staging files of a refused or broken request are removed, never left behind."""
    from flask import request

    for staged in request.environ.get("mediamgr.staged", []):
        staged.discard()
