"""Video and audio features beyond storing the file: what a browser can play (playable), the quality
report (quality), chapter markers from scene changes (chapters, markers), the processing jobs
(transforms, jobs) and their pages (routes)."""
from flask import Blueprint

bp = Blueprint("video", __name__)
