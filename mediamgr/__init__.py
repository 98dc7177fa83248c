"""mediamgr: the media library of an online-course platform."""
import os
from datetime import timedelta
from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None):
    """Build the app. `config` (tests) overrides what the environment says."""
    instance_path = Path((config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH")
                         or PROJECT_ROOT / "instance").resolve()
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True,
                template_folder=str(PROJECT_ROOT / "templates"), static_folder=str(PROJECT_ROOT / "static"))
    from .upload.request import MediamgrRequest, discard_unclaimed_uploads
    app.request_class = MediamgrRequest
    app.teardown_request(discard_unclaimed_uploads)
    instance_path.mkdir(parents=True, exist_ok=True)

    from .config import engine_options, load_config
    app.config.update(load_config(instance_path))
    app.config.update(
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,  # forms; the upload route raises its own limit
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        WTF_CSRF_CHECK_DEFAULT=False,  # auth.tokens checks it, except for requests signed with an API token
        SOCK_SERVER_OPTIONS={"ping_interval": 25},
    )
    app.config.update(config or {})
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                          engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATABASE_TIMEOUT"]))
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=app.config["REMEMBER_DAYS"])
    if app.config["TRUSTED_PROXIES"]:  # behind that many proxies: their X-Forwarded-* say who and where
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    if not app.config["REDIS_URL"]:  # the embedded Redis that `make run` starts (mediamgr.runner)
        from . import embedded_redis
        app.config["REDIS_URL"] = embedded_redis.url_for(instance_path / "redis")

    from . import parsing
    parsing.init_app(app)  # before any rule is added
    _init_extensions(app)
    from .auth import limits, tokens
    app.before_request(tokens.authenticate_request)  # first: who is asking (a token, or the session's CSRF)
    limits.init_app(app)
    _register_blueprints(app)
    from . import errors, security, templating
    errors.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    return app


def _init_extensions(app):
    from . import storage
    from .extensions import csrf, db, login_manager, migrate, redis_connection, sock

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    sock.init_app(app)
    redis_connection.init_app(app)
    storage.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see your media library."
    login_manager.login_message_category = "info"


def _register_blueprints(app):
    from . import admin, analytics, archive, auth, bulk, captions, courses, health, library, operations, progress, upload, video
    from .analytics import routes as _analytics_routes  # noqa: F401
    from .archive import routes as _archive_routes  # noqa: F401
    from .admin import jobs_dashboard
    from .admin import routes as _admin_routes  # noqa: F401  (each feature's routes attach to its blueprint)
    from .auth import account as _account_routes  # noqa: F401
    from .auth import routes as _auth_routes  # noqa: F401
    from .captions import routes as _caption_routes  # noqa: F401
    from .bulk import routes as _bulk_routes  # noqa: F401
    from .courses import routes as _course_routes  # noqa: F401
    from .courses import library_panel as _course_panel_routes  # noqa: F401
    from .courses import selection as _course_selection_routes  # noqa: F401
    from .courses.routes import editor_urls
    from .library import exchange as _exchange_routes  # noqa: F401
    from .library import routes as _library_routes  # noqa: F401
    from .library.matching import match_reason
    from .library.views import card_urls, thumbnail_url
    from .operations import routes as _operation_routes  # noqa: F401
    from .progress import routes as _progress_routes  # noqa: F401
    from .upload import routes as _upload_routes  # noqa: F401
    from .upload import tus as _tus_routes  # noqa: F401
    from .upload.request import upload_limit_text
    from .video import routes as _video_routes  # noqa: F401

    for blueprint in (admin.bp, analytics.bp, archive.bp, auth.bp, bulk.bp, captions.bp, courses.bp, health.bp, library.bp, operations.bp, progress.bp,
                      upload.bp, video.bp):
        app.register_blueprint(blueprint)
    jobs_dashboard.init_app(app)
    app.add_template_global(thumbnail_url)
    app.add_template_global(card_urls)
    app.add_template_global(match_reason)
    app.add_template_global(editor_urls)
    app.add_template_global(upload_limit_text)
    from .cli import register_commands
    register_commands(app)
