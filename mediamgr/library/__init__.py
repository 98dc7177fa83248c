"""The library: browse, search, filter, details, preview, edit and trash."""
from flask import Blueprint

bp = Blueprint("library", __name__)
