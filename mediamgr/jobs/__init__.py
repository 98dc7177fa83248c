"""Background jobs: plain functions that take ids, reload their rows and are safe to run twice."""
import functools

from flask import has_app_context

from ..extensions import db

_app = None


def _job_app():
    """The app a job runs in: the worker's, or one built once for a bare `rq worker`."""
    global _app
    if _app is None:
        from .. import create_app  # the package imports the jobs (through its blueprints): not at the top

        _app = create_app()
    return _app


def with_app_context(function):
    """Run a job inside an app context and hand its database session back afterwards."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if has_app_context():
            try:
                return function(*args, **kwargs)
            finally:
                db.session.remove()
        with _job_app().app_context():
            try:
                return function(*args, **kwargs)
            finally:
                db.session.remove()

    return wrapper
