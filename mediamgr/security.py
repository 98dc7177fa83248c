"""Response headers that keep injected markup inert: a strict Content-Security-Policy (no inline
script, no eval) that still lets previews load from the storage origin."""
from urllib.parse import urlsplit

from flask import request


def _origin(url):
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(config):
    storage = " ".join(sorted({_origin(config.get("S3_ENDPOINT_URL")), _origin(config.get("CDN_BASE_URL"))} - {""}))
    sources = f"'self' {storage}".strip()
    return ("default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'; "
            f"img-src {sources} data: blob:; media-src {sources} blob:; frame-src {sources}; "
            "connect-src 'self' ws://{host} wss://{host}")


def init_app(app):
    policy = content_security_policy(app.config)

    @app.after_request
    def _security_headers(response):
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", policy.format(host=request.host))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
