"""Courses: ordered chapters of ordered items, each item a link to a library file."""
from flask import Blueprint

bp = Blueprint("courses", __name__)
