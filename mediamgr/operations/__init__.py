"""Background operations (an upload's processing, a bulk action): every /operations/… route."""
from flask import Blueprint

bp = Blueprint("operations", __name__)
