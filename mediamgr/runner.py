"""`make run`: everything on one machine with one command.

Checks the settings, applies migrations, creates the demo accounts (embedded mode), starts the
embedded Redis (unless REDIS_URL is set), one RQ worker and gunicorn, and stops them all on Ctrl-C.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from . import PROJECT_ROOT, embedded_redis
from .config import ConfigError

STOP_GRACE_SECONDS = 10


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
    python = sys.executable
    processes = [
        subprocess.Popen([python, str(PROJECT_ROOT / "worker.py")], env=env, cwd=PROJECT_ROOT, start_new_session=True),
        subprocess.Popen([python, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "mediamgr" / "gunicorn_conf.py"),
                          "app:app"], env=env, cwd=PROJECT_ROOT, start_new_session=True),
    ]
    stopping = False

    def request_stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(_banner(config, bind), flush=True)
    try:
        while not stopping and all(process.poll() is None for process in processes):
            time.sleep(0.2)
    finally:
        print("\n  Stopping mediamgr…", flush=True)
        _stop(processes)
        if own_redis:
            embedded_redis.stop(instance / "redis")
    failed = [process for process in processes if process.returncode not in (0, -signal.SIGTERM)]
    if not stopping and failed:
        sys.exit("mediamgr: a process stopped unexpectedly; see the messages above.")


if __name__ == "__main__":
    main()
