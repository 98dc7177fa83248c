"""Captions of videos and audio: WebVTT tracks, one per language, uploaded as WebVTT or SRT, played
in the preview as <track> elements and kept in the database (small, edited cue by cue, searched)."""
from flask import Blueprint

bp = Blueprint("captions", __name__)
