"""Storage analytics: where a library's bytes go (an instructor's own, every user's for an admin)."""
from flask import Blueprint

bp = Blueprint("analytics", __name__)
