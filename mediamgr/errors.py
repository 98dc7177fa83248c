"""Every error answers with a clear message (a page, or plain text for htmx and scripts); never a trace.
The error page itself needs nothing that may be down: with the database unreachable it is rendered
for a signed-out visitor, and if even that fails, a page of plain HTML is sent."""
from html import escape

from flask import current_app, g, render_template, request
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db

DATABASE_DOWN = ("The library can't reach its database right now. Nothing you saved is lost; "
                 "please try again in a minute.")
DATABASE_RETRY_AFTER = "30"

MESSAGES = {
    400: "The request could not be understood.",
    401: "Please log in first.",
    403: "You are not allowed to do that.",
    404: "There is nothing here. It may have been deleted, or the link is wrong.",
    405: "That action is not available here.",
    409: "That can't be done in the file's current state.",
    413: "That upload is too large.",
    422: "Some of what you entered needs another look.",
    500: "Something went wrong on our side. It has been logged; please try again.",
    507: "The server is out of space for uploads right now.",
    503: "The service is unavailable for a moment; please try again shortly.",
}


def _wants_text():
    return (request.headers.get("HX-Request") == "true" or request.accept_mimetypes.best == "application/json"
            or request.headers.get("X-Requested-With") == "XMLHttpRequest" or "Tus-Resumable" in request.headers)


def _describe(error):
    default = MESSAGES.get(error.code, error.name)
    described = error.description if error.description and error.description != type(error).description else None
    return described or default


def handle_http_error(error):
    if error.response is not None:  # the view made its own answer (a rate limit's page, say)
        return error.response
    return error_answer(error.code, error.name, _describe(error))


def error_answer(code, title, message, headers=None):
    """The answer for an error: plain text for htmx and scripts, else the error page."""
    headers = dict(headers or {})
    if _wants_text():
        return message, code, {**headers, "Content-Type": "text/plain; charset=utf-8"}
    try:
        return render_template("errors/error.html", code=code, title=title, message=message), code, headers
    except Exception:  # something the page needs is broken too: say it without the layout
        current_app.logger.exception("the error page could not be rendered")
        return _bare_page(code, title, message), code, {**headers, "Content-Type": "text/html; charset=utf-8"}


def _bare_page(code, title, message):
    return (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{escape(title)} · mediamgr</title>'
            f'<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; text-align: center">'
            f'<p style="font-size: 3rem; color: #ccd">{code}</p><h1>{escape(title)}</h1><p>{escape(message)}</p>'
            f'<p><a href="/">Try again</a></p></body></html>')


def handle_csrf_error(error):
    message = "Your session's security token is missing or out of date. Reload the page and try again."
    return error_answer(400, "Please reload the page", message)


def database_unavailable(error):
    """OperationalError, or a connection that broke: the database is down, locked or restarting."""
    return isinstance(error, OperationalError) or (isinstance(error, DBAPIError) and error.connection_invalidated)


def handle_database_error(error):
    if not database_unavailable(error):
        return handle_unexpected_error(error)
    current_app.logger.warning("database unavailable on %s %s: %s", request.method, request.path,
                               str(error).splitlines()[0])
    _discard_session()
    g._login_user = AnonymousUserMixin()  # the page must not load the user from the database it can't reach
    return error_answer(503, "The library is unavailable for a moment", DATABASE_DOWN,
                        {"Retry-After": DATABASE_RETRY_AFTER})


def _discard_session():
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.invalidate()


def handle_unexpected_error(error):
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    _discard_session()
    return handle_http_error(InternalServerError())


def init_app(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected_error)
