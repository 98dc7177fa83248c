"""gunicorn settings for the progress websocket process (`make run` starts one; see README).

Each open progress socket waits on Redis for hours. Under gevent a socket is a greenlet, not a
thread: one process holds thousands, and the page process (gunicorn_conf.py, gthread) keeps every
thread for page requests. Route /ws/ to this process (a proxy), or give the page its address with
PROGRESS_SOCKET_URL.
"""
import os
import resource

from mediamgr.gunicorn_conf import _without_server_banner

bind = os.environ.get("WS_BIND") or f"127.0.0.1:{int(os.environ.get('PORT', '5000')) + 1}"
worker_class = "gevent"
workers = int(os.environ.get("WS_CONCURRENCY", "1"))
worker_connections = int(os.environ.get("WS_CONNECTIONS", "4000"))
timeout = 60
graceful_timeout = 10
keepalive = 5
control_socket_disable = True
accesslog = "-" if os.environ.get("ACCESS_LOG", "").lower() in ("1", "true", "yes") else None



def _enough_file_descriptors():
    """Each open socket holds two descriptors (the browser's connection and its Redis subscription):
    raise the soft limit, which is often 1,024, towards the hard one so WS_CONNECTIONS sockets fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * worker_connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))


_enough_file_descriptors()
_without_server_banner()
