"""Response headers that keep injected markup inert and private pages private: a strict
Content-Security-Policy (no inline script, no eval; the websocket and storage origins from the
configuration, never from the request's Host header), no caching of signed-in pages, HSTS over HTTPS."""
from urllib.parse import urlsplit

from flask import request
from flask_login import current_user

HSTS = "max-age=31536000; includeSubDomains"


def _origin(url):
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _socket_origin(origin):
    return ("wss://" if origin.startswith("https://") else "ws://") + origin.split("://", 1)[1]


def content_security_policy(config):
    storage = " ".join(sorted({_origin(config.get("S3_ENDPOINT_URL")), _origin(config.get("CDN_BASE_URL"))} - {""}))
    sources = f"'self' {storage}".strip()
    sockets = [_socket_origin(origin) for origin in config["APP_ORIGINS"]]
    if config.get("PROGRESS_SOCKET_PORT"):  # make run's websocket process, on each origin's host
        sockets += [_socket_origin(origin).rsplit(":", 1)[0] + f":{config['PROGRESS_SOCKET_PORT']}"
                    for origin in config["APP_ORIGINS"]]
    if config.get("PROGRESS_SOCKET_URL"):
        sockets.append(_origin(config["PROGRESS_SOCKET_URL"]))
    sockets = " ".join(sockets)
    # 'wasm-unsafe-eval' lets the page compile WebAssembly (hash-wasm's streaming SHA-256 of chosen
    # files); it allows no JavaScript eval.
    return ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'none'; "
            f"img-src {sources} data: blob:; media-src {sources} blob:; frame-src 'none'; "
            f"connect-src 'self' {sockets}")


def init_app(app):
    policy = content_security_policy(app.config)
    https_only = app.config["SESSION_COOKIE_SECURE"]

    @app.after_request
    def _security_headers(response):
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", policy)
            # A signed-in page is nobody else's: no cache keeps it (unless the view said how it may be
            # kept, like the thumbnail redirect that lets the browser reuse a signed URL for a while).
            if current_user.is_authenticated and "Cache-Control" not in response.headers:
                response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure or https_only:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
