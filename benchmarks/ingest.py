"""Upload ingest over real HTTP: the big file POSTed as a raw body to gunicorn running the app with
its production config, against `cp` of the same file into the same staging folder, and the web
worker's memory while it streams (it must not hold the file in memory)."""
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import psutil
import requests

from .grid import LOGIN_TOKEN
from .payload import size_text
from .report import Check, median
from .services import SECRET_KEY, free_port, start_process, stop_process, wait_for_http

MIN_RATIO_TO_CP = 0.8
MAX_RSS_GROWTH_MB = 64
EMAIL, PASSWORD = "uploader@bench.example", "bench-password-1"
PAGE_CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')  # the page's hx-headers, which static/js/page.js reads
# Variables of the caller's environment that would point the server somewhere else.
_FOREIGN_SETTINGS = ("DATABASE_URL", "REDIS_URL", "REDIS_NAMESPACE", "STORAGE_BACKEND", "STORAGE_ROOT", "STAGING_DIR",
                     "S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION",
                     "CDN_BASE_URL", "MAX_UPLOAD_BYTES", "PORT", "WEB_THREADS", "ACCESS_LOG")


class PeakRss:
    """Peak resident memory of a process while the block runs: sampled every 20 ms and, where the
    kernel allows resetting it, the high-water mark (VmHWM) that catches peaks between samples."""

    def __init__(self, pid, interval=0.02):
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = self.baseline = 0
        self._stop = threading.Event()

    def __enter__(self):
        self.hwm_reset = _reset_high_water_mark(self.process.pid)
        self.baseline = self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if self.hwm_reset:
            self.peak = max(self.peak, _status_kib(self.process.pid, "VmHWM") * 1024)

    @property
    def growth_mb(self):
        return (self.peak - self.baseline) / 1e6


def _reset_high_water_mark(pid):
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # 5 = reset the peak RSS to the current RSS
        return True
    except OSError:
        return False


def _status_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class UploadServer:
    """gunicorn with mediamgr/gunicorn_conf.py and one web process, on a fresh SQLite database."""

    def __init__(self, folder, redis_url):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.staging = folder / "staging"
        self.log_path = folder / "gunicorn.log"
        env = {key: value for key, value in os.environ.items() if key not in _FOREIGN_SETTINGS}
        self.env = env | {
            "INSTANCE_PATH": str(folder / "instance"), "DATABASE_URL": f"sqlite:///{folder / 'ingest.sqlite3'}",
            "REDIS_URL": redis_url, "REDIS_NAMESPACE": f"mm-bench-{os.getpid()}-ingest",
            "STAGING_DIR": str(self.staging), "STORAGE_ROOT": str(folder / "storage"), "SECRET_KEY": SECRET_KEY,
            "BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "1", "FLASK_APP": "app"}
        self.process = None

    def __enter__(self):
        self._flask("db", "upgrade")
        self._flask("create-user", EMAIL, "--password", PASSWORD)
        self.process = start_process([sys.executable, "-m", "gunicorn", "-c", "mediamgr/gunicorn_conf.py", "app:app"],
                                     env=self.env, log_path=self.log_path)
        wait_for_http(self.url + "/healthz", self.process, log_path=self.log_path)
        return self

    def __exit__(self, *exc):
        if self.process:
            stop_process(self.process)

    def _flask(self, *args):
        subprocess.run([sys.executable, "-m", "flask", *args], env=self.env, check=True,
                       cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @property
    def worker_pid(self):
        children = psutil.Process(self.process.pid).children()
        if len(children) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {len(children)}")
        return children[0].pid

    def logged_in_session(self):
        session = requests.Session()
        token = LOGIN_TOKEN.search(session.get(self.url + "/login").text).group(1)
        answer = session.post(self.url + "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
                              allow_redirects=False)
        if answer.status_code != 302:
            raise RuntimeError(f"login failed with {answer.status_code}")
        session.csrf_token = PAGE_CSRF.search(session.get(self.url + "/media").text).group(1)
        return session

    def remove_staged(self):
        """The worker is not running: drop what the upload staged so each round starts alike."""
        for path in self.staging.glob("*"):
            path.unlink(missing_ok=True)


def time_cp(payload, folder):
    target = folder / "cp-copy.bin"
    os.sync()  # start from no dirty pages, like the upload does
    started = time.perf_counter()
    subprocess.run(["cp", str(payload), str(target)], check=True)
    seconds = time.perf_counter() - started
    target.unlink()
    return seconds


def time_upload(server, session, payload):
    headers = {"X-CSRFToken": session.csrf_token, "X-Filename": quote(payload.name),
               "Content-Type": "application/octet-stream", "X-Requested-With": "XMLHttpRequest"}
    os.sync()
    with PeakRss(server.worker_pid) as memory, open(payload, "rb") as body:
        started = time.perf_counter()
        answer = session.post(server.url + "/media/upload", data=body, headers=headers, timeout=1800)
        seconds = time.perf_counter() - started
    if answer.status_code != 201:
        raise RuntimeError(f"upload answered {answer.status_code}: {answer.text[:500]}")
    server.remove_staged()
    return seconds, memory


def run(workspace, payload, report, rounds):
    folder = workspace.path("ingest")
    size_mib = payload.stat().st_size / 2**20
    rows = []
    with UploadServer(folder, workspace.redis_url) as server:
        server.staging.mkdir(parents=True, exist_ok=True)
        session = server.logged_in_session()
        for round_number in range(1, rounds + 1):
            cp_seconds = time_cp(payload, server.staging)
            upload_seconds, memory = time_upload(server, session, payload)
            rows.append({"cp_s": cp_seconds, "upload_s": upload_seconds, "ratio": cp_seconds / upload_seconds,
                         "rss_growth_mb": memory.growth_mb, "rss_baseline_mb": memory.baseline / 1e6,
                         "hwm_reset": memory.hwm_reset})
            print(f"  round {round_number}/{rounds}: cp {size_mib / cp_seconds:,.0f} MiB/s, upload "
                  f"{size_mib / upload_seconds:,.0f} MiB/s ({cp_seconds / upload_seconds:.2f} × cp), "
                  f"worker RSS +{memory.growth_mb:.1f} MB", flush=True)
    ratios = [row["ratio"] for row in rows]
    growths = [row["rss_growth_mb"] for row in rows]
    upload_rate = size_mib / median([row["upload_s"] for row in rows])
    cp_rate = size_mib / median([row["cp_s"] for row in rows])
    report.details["ingest"] = {"payload_mib": size_mib, "rounds": rows}
    report.add(Check(f"ingest of a {size_text(payload.stat().st_size)} upload vs cp",
                     f"median {median(ratios):.2f} × cp, worst {min(ratios):.2f} × "
                     f"({upload_rate:,.0f} vs {cp_rate:,.0f} MiB/s)",
                     f"≥ {MIN_RATIO_TO_CP} × cp", median(ratios) >= MIN_RATIO_TO_CP, {"ratios": ratios}))
    report.add(Check("web worker peak RSS growth during upload",
                     f"median {median(growths):.1f} MB, worst {max(growths):.1f} MB",
                     f"≤ {MAX_RSS_GROWTH_MB} MB", max(growths) <= MAX_RSS_GROWTH_MB, {"growth_mb": growths}))
