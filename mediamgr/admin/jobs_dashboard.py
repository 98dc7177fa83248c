"""rq-dashboard at /admin/rq: the job queues, workers and failed jobs, for admins only (everyone else
gets 404, as for any admin page), behind the app's login, session and CSRF protection.

The dashboard's pages carry one inline script and style attributes, and render rows with underscore
templates (compiled with `new Function`): their pages alone get a policy that allows exactly that
script (by its hash), eval, and inline styles. Its POST requests (requeue, delete, empty) send the
token of a `_csrf_token` cookie as X-CSRFToken, which CSRFProtect checks like any form's."""
import base64
import hashlib
import re

import rq_dashboard
from flask import request
from flask_wtf.csrf import generate_csrf
from rq_dashboard.web import setup_rq_connection
from werkzeug.routing import IntegerConverter

from ..scoping import admins_only
from ..security import content_security_policy

PREFIX = "/admin/rq"
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"text/template\")[^>]*>(.*?)</script>", re.S)


def _script_hashes(html):
    return [f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
            for body in _INLINE_SCRIPT.findall(html)]


def init_app(app):
    app.config.from_object(rq_dashboard.default_settings)
    app.config["RQ_DASHBOARD_REDIS_URL"] = app.config["REDIS_URL"]
    setup_rq_connection(app)
    # Its routes count Redis instances from 0 (`<int:instance_number>`), which our ids converter
    # refuses: its rules are compiled with Werkzeug's own integer converter, every other rule keeps ours.
    ours = app.url_map.converters["int"]
    app.url_map.converters["int"] = IntegerConverter
    try:
        app.register_blueprint(rq_dashboard.blueprint, url_prefix=PREFIX)
    finally:
        app.url_map.converters["int"] = ours
    policy = content_security_policy(app.config)

    @app.before_request
    def _dashboard_for_admins_only():
        if request.blueprint == rq_dashboard.blueprint.name:
            admins_only()

    @app.after_request
    def _dashboard_headers(response):
        if request.blueprint != rq_dashboard.blueprint.name:
            return response
        if response.mimetype == "text/html" and not response.direct_passthrough:
            scripts = " ".join(["'unsafe-eval'", *_script_hashes(response.get_data(as_text=True))])
            response.headers["Content-Security-Policy"] = policy.replace(
                "script-src 'self'", f"script-src 'self' {scripts}").replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        response.set_cookie("_csrf_token", generate_csrf(), path=PREFIX, samesite="Strict",
                            secure=app.config["SESSION_COOKIE_SECURE"], httponly=False)
        return response
