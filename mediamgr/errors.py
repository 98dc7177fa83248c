"""Every error answers with a clear message (a page, or plain text for htmx and scripts); never a trace."""
from flask import current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db

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
    message = _describe(error)
    if _wants_text():
        return message, error.code, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("errors/error.html", code=error.code, title=error.name, message=message), error.code


def handle_csrf_error(error):
    message = "Your session's security token is missing or out of date. Reload the page and try again."
    if _wants_text():
        return message, 400, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("errors/error.html", code=400, title="Please reload the page", message=message), 400


def handle_unexpected_error(error):
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return handle_http_error(InternalServerError())


def init_app(app):
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)
