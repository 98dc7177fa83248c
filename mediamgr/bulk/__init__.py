"""Bulk operations: many files selected (by id or by filter), one action, done by an RQ job in
checkpointed batches with live progress, Cancel and Retry."""
from flask import Blueprint

bp = Blueprint("bulk", __name__)
