"""Live progress: jobs publish events per user through Redis; a websocket (or polling) renders them."""
from flask import Blueprint

bp = Blueprint("progress", __name__)
