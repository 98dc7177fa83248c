"""Rate limits on everything that checks a password or makes an account (Flask-Limiter on the real
Redis, so every web process counts together): failed logins per account from one address, per
account from everywhere (a looser limit: strangers elsewhere cannot lock a person out for long), and
per address; sign-ups per address; wrong current passwords per user. A refusal says when to try
again, with Retry-After.

Only failed checks count (deduct_when): a person who types their password right is never slowed,
refused attempts do not keep a window full, and a limit once reached refuses the right password
too, until its window moves on.
"""
import math
import time

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from ..extensions import limiter
from .accounts import normalize_email


def storage_uri(redis_url):
    """Flask-Limiter's name for the app's Redis (a unix socket is redis+unix://)."""
    return "redis+" + redis_url if redis_url.startswith("unix://") else redis_url


def init_app(app):
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(app.config["REDIS_URL"]))
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 5})
    # Redis down: count in the process instead (per process, but still counted), never fail the page.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)


def wait_text():
    """"Too many attempts. Try again in 12 minutes." for the limit this request ran into."""
    limit = limiter.current_limit
    seconds = max(1, (limit.reset_at - time.time()) if limit else 60)
    minutes = math.ceil(seconds / 60)
    return f"Too many attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def failed(response):
    """Whether a password was checked and was wrong (the form answered 422)."""
    return response.status_code == 422


def account_key():
    return "account:" + normalize_email(request.form.get("email", ""))


def account_address_key():
    return f"account:{normalize_email(request.form.get('email', ''))}:from:{get_remote_address()}"


def user_key():
    return f"user:{current_user.get_id().partition(':')[0]}" if current_user.is_authenticated else get_remote_address()


def setting(name):
    return lambda: current_app.config[name]


def scope(name):
    """The limit's bucket, under the app's REDIS_NAMESPACE (as a scope: Flask-Limiter keeps one key
    prefix per process, and apps of different namespaces may share one)."""
    return lambda _endpoint: f"{current_app.config['REDIS_NAMESPACE']}:{name}"


def login_limits(on_breach):
    """Failed logins per account from one address, per account from anywhere, and per address."""
    def decorate(view):
        view = limiter.limit(setting("RATE_LIMIT_LOGIN_ACCOUNT"), key_func=account_address_key, methods=["POST"],
                             deduct_when=failed, error_message=wait_text, on_breach=on_breach,
                             scope=scope("login-account-address"))(view)
        view = limiter.limit(setting("RATE_LIMIT_LOGIN_ACCOUNT_ANYWHERE"), key_func=account_key, methods=["POST"],
                             deduct_when=failed, error_message=wait_text, on_breach=on_breach,
                             scope=scope("login-account"))(view)
        return limiter.limit(setting("RATE_LIMIT_LOGIN_IP"), methods=["POST"], deduct_when=failed,
                             error_message=wait_text, on_breach=on_breach, scope=scope("login-address"))(view)
    return decorate


def register_limit(on_breach):
    """Sign-ups per address."""
    return limiter.limit(setting("RATE_LIMIT_REGISTER"), methods=["POST"], error_message=wait_text,
                         on_breach=on_breach, scope=scope("register"))


def password_limit():
    """Failed checks of the current password (changing it), per user."""
    return limiter.limit(setting("RATE_LIMIT_PASSWORD"), key_func=user_key, methods=["POST"], deduct_when=failed,
                         error_message=wait_text, scope=scope("password"))
