"""gunicorn settings for `make run` and production.

flask-sock holds a thread for each open websocket, so each process has many threads: open
progress sockets must never take all of them and starve page requests.
"""
import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "64"))
timeout = 120  # gthread's heartbeat comes from the main thread: long sockets and uploads are fine
graceful_timeout = 10
keepalive = 5
control_socket_disable = True  # one shared ~/.gunicorn socket would clash between instances
accesslog = "-" if os.environ.get("ACCESS_LOG", "").lower() in ("1", "true", "yes") else None


def _without_server_banner():
    """gunicorn names itself in a Server header on every answer; say nothing about the software."""
    from gunicorn.http import wsgi

    default_headers = wsgi.Response.default_headers

    def headers_without_server(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    wsgi.Response.default_headers = headers_without_server


_without_server_banner()
