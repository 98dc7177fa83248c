"""Download a selection as a zip: a small one streamed to the browser at once, a large one written by
a worker and offered in the Activity panel (jobs.archives, jobs.prepared)."""
from flask import Blueprint

bp = Blueprint("archive", __name__)
