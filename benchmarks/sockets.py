"""1,000 open progress sockets on one web host, as `make run` lays it out (the page process of
gunicorn_conf.py and the gevent websocket process of gunicorn_ws_conf.py): the grid's p95 and the
upload throughput with the sockets open against the same host idle, and how long a progress event
takes from a publisher in another process to a socket's frame.

The sockets belong to 250 users, 4 each (under PROGRESS_SOCKETS_PER_USER), held by a process of their
own (socket_holder.py). Each round measures idle first, then with the sockets open."""
import json
import os
import subprocess
import sys
import threading
import time
from itertools import count
from pathlib import Path
from urllib.parse import quote

import psutil
import requests
import sqlalchemy as sa

from mediamgr import create_app
from mediamgr.auth.models import User
from mediamgr.auth.sessions import start_session
from mediamgr.extensions import db
from mediamgr.progress.publisher import publish

from .dataset import MAIN_EMAIL, Plan
from .grid import LOGIN_TOKEN
from .ingest import PAGE_CSRF, _FOREIGN_SETTINGS
from .payload import make_payload
from .report import Check, median, percentile
from .seed import PASSWORD, seed_database
from .services import PROJECT_ROOT, free_port, start_process, stop_process, wait_for_http

SOCKETS = 1000
SOCKETS_PER_USER = 4
LIBRARY_ROWS = 20_000
GRID_REQUESTS = 200
UPLOAD_MIB = 256
PROBES = 200
PROBES_PER_SECOND = 50
MAX_GRID_P95_GROWTH = 0.20
MIN_UPLOAD_RATIO = 0.90


class WebHost:
    """The page process and the websocket process on a seeded SQLite database, no worker."""

    def __init__(self, workspace, folder):
        self.folder = folder
        self.config = workspace.app_config(f"sqlite:///{folder / 'sockets.sqlite3'}", "sockets")
        self.port, self.socket_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.socket_url = f"http://127.0.0.1:{self.socket_port}"
        env = {key: value for key, value in os.environ.items() if key not in _FOREIGN_SETTINGS}
        self.env = env | {
            "INSTANCE_PATH": self.config["INSTANCE_PATH"], "DATABASE_URL": self.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": self.config["REDIS_URL"], "REDIS_NAMESPACE": self.config["REDIS_NAMESPACE"],
            "STORAGE_ROOT": self.config["STORAGE_ROOT"], "STAGING_DIR": self.config["STAGING_DIR"],
            "SECRET_KEY": self.config["SECRET_KEY"], "BIND": f"127.0.0.1:{self.port}",
            "WS_BIND": f"127.0.0.1:{self.socket_port}", "PROGRESS_SOCKET_PORT": str(self.socket_port)}
        self.processes = []

    def __enter__(self):
        seed_database(self.config, Plan.for_rows(LIBRARY_ROWS), "sqlite")
        self.app = create_app(self.config)
        self.cookies, self.probe_cookie, self.probe_user = self._sessions(SOCKETS // SOCKETS_PER_USER + 1)
        for name, config in (("pages", "gunicorn_conf.py"), ("sockets", "gunicorn_ws_conf.py")):
            self.processes.append(start_process(
                [sys.executable, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "mediamgr" / config), "app:app"],
                env=self.env, log_path=self.folder / f"{name}.log"))
        wait_for_http(self.url + "/healthz", self.processes[0], log_path=self.folder / "pages.log")
        wait_for_http(self.socket_url + "/healthz", self.processes[1], log_path=self.folder / "sockets.log")
        return self

    def __exit__(self, *exc):
        for process in self.processes:
            stop_process(process)

    def _sessions(self, users):
        """Signed-in session cookies of `users` new instructors (a session row each, as a login makes):
        SOCKETS_PER_USER cookies of each but the last, whose one socket is the probe."""
        with self.app.app_context():
            db.session.execute(sa.insert(User), [
                {"email": f"tab-user-{n}@bench.example", "display_name": f"Tab user {n}", "role": "instructor",
                 "password_hash": "!"} for n in range(users)])
            db.session.commit()
            serializer = self.app.session_interface.get_signing_serializer(self.app)
            cookies, probe_user = [], None
            for user in db.session.scalars(sa.select(User).where(User.email.like("tab-user-%")).order_by(User.id)):
                with self.app.test_request_context():
                    start_session(user)
                    cookies.append(f"session={serializer.dumps({'_user_id': user.get_id(), '_fresh': True})}")
                probe_user = user.id
            db.session.remove()
        probe = cookies.pop()
        return [cookie for cookie in cookies for _ in range(SOCKETS_PER_USER)], probe, probe_user

    def socket_process_rss_mb(self):
        process = psutil.Process(self.processes[1].pid)
        return sum(p.memory_info().rss for p in [process] + process.children(recursive=True)) / 1e6

    def socket_process_cpu_seconds(self):
        process = psutil.Process(self.processes[1].pid)
        return sum(sum(p.cpu_times()[:2]) for p in [process] + process.children(recursive=True))

    def instructor(self):
        session = requests.Session()
        token = LOGIN_TOKEN.search(session.get(self.url + "/login").text).group(1)
        answer = session.post(self.url + "/login", data={"email": MAIN_EMAIL, "password": PASSWORD,
                                                         "csrf_token": token}, allow_redirects=False)
        if answer.status_code != 302:
            raise RuntimeError(f"login failed with {answer.status_code}")
        session.csrf_token = PAGE_CSRF.search(session.get(self.url + "/media").text).group(1)
        return session


class Tabs:
    """The holder process with its sockets open (socket_holder.py); frames of the probe socket."""

    def __init__(self, host, cookies):
        self.process = subprocess.Popen([sys.executable, "-m", "benchmarks.socket_holder"], cwd=PROJECT_ROOT,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.process.stdin.write(json.dumps({"url": host.socket_url, "cookies": cookies,
                                             "probe_cookie": host.probe_cookie}) + "\n")
        self.process.stdin.flush()
        opened = self.process.stdout.readline().split()  # "open N refused M"
        if not opened or opened[0] != "open":
            raise RuntimeError(f"the socket holder failed: {opened}")
        self.open, self.refused = int(opened[1]), int(opened[3])
        self.frames = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            if line.startswith("frame "):
                _, moment, text = line.split(" ", 2)
                self.frames.append((float(moment), text))
            elif line.startswith("still open "):
                self.still_open = int(line.split()[2])

    def close(self):
        self.still_open = None
        self.process.stdin.close()
        self.process.wait(timeout=120)
        self.reader.join(timeout=10)
        return self.still_open


def time_grid(session, url):
    times = []
    for _ in range(GRID_REQUESTS):
        started = time.perf_counter()
        answer = session.get(url + "/media/grid", headers={"HX-Request": "true"})
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"grid answered {answer.status_code}")
    return times


def time_upload(session, host, payload):
    headers = {"X-CSRFToken": session.csrf_token, "X-Filename": quote(payload.name),
               "Content-Type": "application/octet-stream", "X-Requested-With": "XMLHttpRequest"}
    with open(payload, "rb") as body:
        started = time.perf_counter()
        answer = session.post(host.url + "/media/upload", data=body, headers=headers, timeout=600)
        seconds = time.perf_counter() - started
    if answer.status_code != 201:
        raise RuntimeError(f"upload answered {answer.status_code}: {answer.text[:300]}")
    for path in Path(host.config["STAGING_DIR"]).glob("*"):  # no worker: drop what was staged
        path.unlink(missing_ok=True)
    return UPLOAD_MIB / seconds


_probe_numbers = count(1)


def time_probes(host, tabs):
    """PROBES progress events published from this process to the probe user's channel; the ms until
    the holder's socket had each frame."""
    sent = {}
    with host.app.app_context():
        for _ in range(PROBES):
            number = next(_probe_numbers)
            event = {"id": 10_000_000 + number, "owner_id": host.probe_user, "kind": "bulk",
                     "title": f"probe-{number}-end", "status": "running", "stage": None, "total": 10, "processed": 1,
                     "failed": 0, "error": None, "media_id": None, "current": None, "cancel_requested": False,
                     "action": "add_tags", "undone": False, "retryable": True}
            sent[number] = time.time()
            publish(host.probe_user, event)
            time.sleep(1 / PROBES_PER_SECOND)
    time.sleep(1)
    latencies = []
    for moment, text in list(tabs.frames):
        if "probe-" in text:
            number = int(text.split("probe-", 1)[1].split("-", 1)[0])
            if number in sent:
                latencies.append((moment - sent.pop(number)) * 1000)
    tabs.frames.clear()
    if sent:
        raise RuntimeError(f"{len(sent)} of {PROBES} progress events never reached the socket")
    return latencies


def measure(host, session, payload, cookies):
    tabs = Tabs(host, cookies)
    try:
        cpu_before, started = host.socket_process_cpu_seconds(), time.perf_counter()
        grid = time_grid(session, host.url)
        cpu = (host.socket_process_cpu_seconds() - cpu_before) / (time.perf_counter() - started)
        upload = time_upload(session, host, payload)
        probes = time_probes(host, tabs)
        rss = host.socket_process_rss_mb()
    finally:
        still_open = tabs.close()
    return {"socket_process_cpu": cpu, "open": tabs.open, "refused": tabs.refused, "still_open": still_open, "grid_ms": grid,
            "grid_p50": percentile(grid, 0.5), "grid_p95": percentile(grid, 0.95), "upload_mib_s": upload,
            "frame_ms": probes, "frame_p50": percentile(probes, 0.5), "frame_p95": percentile(probes, 0.95),
            "socket_process_rss_mb": rss}


def run(workspace, report, rounds):
    folder = workspace.path("sockets")
    payload = make_payload(workspace.path("sockets-payload"), UPLOAD_MIB)
    rows = []
    with WebHost(workspace, folder) as host:
        session = host.instructor()
        time_grid(session, host.url)  # warm: the first requests fill caches
        for number in range(1, rounds + 1):
            if number % 2:  # which goes first alternates: warm caches favour the second
                idle, loaded = measure(host, session, payload, []), measure(host, session, payload, host.cookies)
            else:
                loaded, idle = measure(host, session, payload, host.cookies), measure(host, session, payload, [])
            rows.append({"idle": idle, "loaded": loaded})
            print(f"  round {number}/{rounds}: {loaded['open']:,} sockets open ({loaded['refused']} refused); grid p95 "
                  f"{idle['grid_p95']:.1f} → {loaded['grid_p95']:.1f} ms; upload {idle['upload_mib_s']:,.0f} → "
                  f"{loaded['upload_mib_s']:,.0f} MiB/s; publish→frame p50/p95 {idle['frame_p50']:.1f}/"
                  f"{idle['frame_p95']:.1f} → {loaded['frame_p50']:.1f}/{loaded['frame_p95']:.1f} ms; "
                  f"websocket process {loaded['socket_process_rss_mb']:.0f} MB, "
                  f"{loaded['socket_process_cpu']:.0%} of a core", flush=True)
    report.details["sockets"] = rows

    def mid(phase, key):
        return median([row[phase][key] for row in rows])

    opened = min(row["loaded"]["open"] for row in rows)
    report.add(Check(f"progress sockets held open on one web host ({SOCKETS // SOCKETS_PER_USER} users × "
                     f"{SOCKETS_PER_USER})", f"{opened:,} of {SOCKETS:,} open in every round; websocket process "
                     f"{mid('loaded', 'socket_process_rss_mb'):.0f} MB, {mid('loaded', 'socket_process_cpu'):.0%} "
                     "of a core while they idle", f"{SOCKETS:,}",
                     opened >= SOCKETS and all(row["loaded"]["still_open"] == SOCKETS for row in rows)))
    growth = mid("loaded", "grid_p95") / mid("idle", "grid_p95") - 1
    report.add(Check(f"grid p95 with {SOCKETS:,} sockets open vs idle",
                     f"{mid('idle', 'grid_p95'):.1f} → {mid('loaded', 'grid_p95'):.1f} ms ({growth:+.0%}; p50 "
                     f"{mid('idle', 'grid_p50'):.1f} → {mid('loaded', 'grid_p50'):.1f} ms)",
                     f"≤ +{MAX_GRID_P95_GROWTH:.0%}", growth <= MAX_GRID_P95_GROWTH))
    ratio = mid("loaded", "upload_mib_s") / mid("idle", "upload_mib_s")
    report.add(Check(f"upload throughput ({UPLOAD_MIB} MiB) with {SOCKETS:,} sockets open vs idle",
                     f"{mid('idle', 'upload_mib_s'):,.0f} → {mid('loaded', 'upload_mib_s'):,.0f} MiB/s ({ratio:.2f} ×)",
                     f"≥ {MIN_UPLOAD_RATIO} ×", ratio >= MIN_UPLOAD_RATIO))
    report.add(Check("publish → frame across processes (idle / 1,000 sockets open)",
                     f"p50 {mid('idle', 'frame_p50'):.1f} / {mid('loaded', 'frame_p50'):.1f} ms, p95 "
                     f"{mid('idle', 'frame_p95'):.1f} / {mid('loaded', 'frame_p95'):.1f} ms",
                     "reported (earlier run: p50 1.2 ms, p95 5.4 ms)"))
