"""Uploads: bytes streamed to staging, checked, recorded, and handed to a job."""
from flask import Blueprint

bp = Blueprint("upload", __name__)
