"""Accounts: log in, log out, register."""
from flask import Blueprint

bp = Blueprint("auth", __name__)
