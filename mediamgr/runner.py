"""`make run`: everything on one machine with one command.

Checks the settings, applies migrations, creates the demo accounts (embedded mode), starts the
embedded Redis (unless REDIS_URL is set), an RQ worker for uploads, bulk work and
maintenance, one for video processing, and gunicorn, restarts any of them that
crashes (with a growing pause, and at most MAX_RESTARTS times in RESTART_WINDOW), and stops them
all on Ctrl-C.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import PROJECT_ROOT, embedded_redis
from .config import ConfigError
from .jobs.names import PROCESSING, QUICK_QUEUES

STOP_GRACE_SECONDS = 10
MAX_RESTARTS = 5  # of one process within RESTART_WINDOW seconds; more means it cannot run at all
RESTART_WINDOW = 600
RESTART_PAUSES = (1, 2, 5, 10, 30)


class Child:
    """One process the runner keeps running."""

    def __init__(self, name, command, env):
        self.name, self.command, self.env = name, command, env
        self.restarts = []  # monotonic times
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(self.command, env=self.env, cwd=PROJECT_ROOT, start_new_session=True)

    def crashed(self):
        return self.process.poll() is not None

    def restart(self):
        """Start it again after a pause that grows with each recent crash; False when it has crashed
        too often to go on."""
        now = time.monotonic()
        self.restarts = [moment for moment in self.restarts if now - moment < RESTART_WINDOW] + [now]
        if len(self.restarts) > MAX_RESTARTS:
            return False
        pause = RESTART_PAUSES[min(len(self.restarts), len(RESTART_PAUSES)) - 1]
        print(f"  mediamgr: the {self.name} stopped (exit status {self.process.returncode}); "
              f"starting it again in {pause} s", flush=True)
        time.sleep(pause)
        self.start()
        return True


def _prepare(env):
    """Migrate and seed in this process; returns the app's settings for the banner."""
    from flask_migrate import upgrade

    from . import create_app
    from .cli import DEMO_ACCOUNTS, ensure_user

    app = create_app({"REDIS_URL": env["REDIS_URL"]})
    with app.app_context():
        upgrade()
        if not os.environ.get("DATABASE_URL"):
            for account in DEMO_ACCOUNTS:
                ensure_user(*account)
    return app.config


def _banner(config, bind):
    demo = "" if os.environ.get("DATABASE_URL") else (
        "\n  Demo logins:\n"
        "    instructor   instructor@example.com   / instructor-demo\n"
        "    instructor 2 instructor2@example.com  / instructor2-demo\n"
        "    admin        admin@example.com        / admin-demo\n")
    return (f"\n  mediamgr is running on http://{bind}\n"
            f"  database: {config['SQLALCHEMY_DATABASE_URI'].split('://')[0]}, storage: {config['STORAGE_BACKEND']}, "
            f"redis: {'embedded' if not os.environ.get('REDIS_URL') else 'REDIS_URL'}\n{demo}"
            "  Press Ctrl-C to stop.\n")


def _stop(processes):
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main():
    instance = Path(os.environ.get("INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()
    env = dict(os.environ, INSTANCE_PATH=str(instance))
    own_redis = not env.get("REDIS_URL")
    try:
        if own_redis:
            env["REDIS_URL"] = embedded_redis.ensure_running(instance / "redis")
        config = _prepare(env)
    except ConfigError as error:
        sys.exit(f"mediamgr: configuration error: {error}")
    bind = env.get("BIND", f"127.0.0.1:{env.get('PORT', '5000')}")
    host, _, port = bind.rpartition(":")
    if not env.get("PROGRESS_SOCKET_URL"):  # the progress sockets in a gevent process of their own
        env.setdefault("PROGRESS_SOCKET_PORT", str(int(port) + 1))
        env.setdefault("WS_BIND", f"{host}:{env['PROGRESS_SOCKET_PORT']}")
    python = sys.executable
    gunicorn = [python, "-m", "gunicorn", "-c"]
    children = [
        Child("worker", [python, str(PROJECT_ROOT / "worker.py"), "--queues", ",".join(QUICK_QUEUES)], env),
        # Video analysis and transcodes on a worker of their own: an upload never waits behind them.
        Child("processing worker", [python, str(PROJECT_ROOT / "worker.py"), "--queues", PROCESSING], env),
        Child("web server", gunicorn + [str(PROJECT_ROOT / "mediamgr" / "gunicorn_conf.py"), "app:app"], env),
        Child("websocket server", gunicorn + [str(PROJECT_ROOT / "mediamgr" / "gunicorn_ws_conf.py"), "app:app"], env),
    ]
    stopping = False
    gave_up = None

    def request_stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(_banner(config, bind), flush=True)
    try:
        while not stopping and gave_up is None:
            time.sleep(0.2)
            for child in children:
                if not stopping and child.crashed() and not child.restart():
                    gave_up = child
    finally:
        print("\n  Stopping mediamgr…", flush=True)
        _stop([child.process for child in children])
        if own_redis:
            embedded_redis.stop(instance / "redis")
    if gave_up is not None:
        sys.exit(f"mediamgr: the {gave_up.name} stopped {MAX_RESTARTS + 1} times in {RESTART_WINDOW // 60} minutes; "
                 "see the messages above.")


if __name__ == "__main__":
    main()
