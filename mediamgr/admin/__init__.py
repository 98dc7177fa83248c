"""What only admins do: the users of the platform (and, later, storage and cleanup)."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
