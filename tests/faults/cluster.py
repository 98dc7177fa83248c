"""The scaled-out set the fault suite breaks, one fault at a time: PostgreSQL (behind a port that can be
cut), a redis-server of its own (restartable empty), moto's S3 server (behind a port that can refuse
or hang), two gunicorn page processes, the gevent websocket process and two RQ workers, all real
processes on this machine. The tests run in one xdist process, in file order (xdist_group)."""
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace

import boto3
import psutil
import psycopg
import redis
import requests
import sqlalchemy as sa
from rq import Worker

from mediamgr import create_app, embedded_redis
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile, MediaVersion, PendingDeletion, Rendition
from mediamgr.progress.models import Operation

from helpers import (PASSWORD, family_of, signal_all, PG_DSN, TcpProxy, add_test_users, base_config, free_port, migrate, start_web,
                     start_worker, wait_for)

# The suite's clock: the maintenance round and the "no heartbeat" limit. FAULT_MAINTENANCE_INTERVAL lets
# `make bench` run the same faults at another interval; recovery is reported as a multiple of it.
INTERVAL = int(os.environ.get("FAULT_MAINTENANCE_INTERVAL", "2"))
RECOVERY_LOG = os.environ.get("FAULT_RECOVERY_LOG")  # where `make bench` collects the recovery times
ACTIVE = ("queued", "running")



class Client:
    """A logged-in visitor over real HTTP, whose requests go to the page processes in turn."""

    CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')
    FORM = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

    # Signing in is each test's setup, not what it measures: on a loaded machine (CI runs the browser
    # tests beside this suite) a page process can be slow to answer, so it gets more time than a
    # test's own requests; a failed test prints every process's log (conftest.py).
    SIGN_IN_SECONDS = 30

    def __init__(self, urls, email):
        self.urls, self.turn = urls, 0
        self.http = requests.Session()
        wait = self.SIGN_IN_SECONDS
        form = self.FORM.search(self.http.get(urls[0] + "/login", timeout=wait).text).group(1)
        answer = self.http.post(urls[0] + "/login", data={"email": email, "password": PASSWORD, "csrf_token": form},
                                allow_redirects=False, timeout=wait)
        assert answer.status_code == 302, answer.text[:500]
        self.token = self.CSRF.search(self.http.get(urls[0] + "/media", timeout=wait).text).group(1)

    def url(self, path):
        self.turn += 1
        return self.urls[self.turn % len(self.urls)] + path

    def get(self, path, **kwargs):
        return self.http.get(self.url(path), timeout=kwargs.pop("timeout", 15), **kwargs)

    def post(self, path, data=None, **kwargs):
        headers = {"X-CSRFToken": self.token, "HX-Request": "true", **kwargs.pop("headers", {})}
        return self.http.post(self.url(path), data=data, headers=headers, timeout=kwargs.pop("timeout", 30), **kwargs)

    def upload(self, name, content):
        return self.post("/media/upload", data=content, headers={
            "X-Filename": name, "Content-Type": "application/octet-stream", "X-Requested-With": "XMLHttpRequest",
            "HX-Request": ""})


class Cluster:
    def __init__(self, root, password_hash):
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir()
        self.recoveries = {}
        self.workers = []
        self.stack = ExitStack()  # everything started, stopped in reverse order by close()
        try:
            self._start(password_hash)
        except BaseException:
            self.stack.close()
            raise

    def _start(self, password_hash):
        self.redis_dir = self.root / "redis"
        self.redis_url = embedded_redis.ensure_running(self.redis_dir, persist=False)
        self.stack.callback(embedded_redis.stop, self.redis_dir)
        schema = f"mm_faults_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = psycopg.connect(PG_DSN, connect_timeout=2, autocommit=True)
        admin.execute(f'CREATE SCHEMA "{schema}"')
        self.stack.callback(admin.close)
        self.stack.callback(admin.execute, f'DROP SCHEMA "{schema}" CASCADE')
        pg = re.match(r"postgresql://([^@]*)@([^:/]+):(\d+)/(\w+)", PG_DSN)
        self.db_proxy = TcpProxy(pg.group(2), int(pg.group(3)))
        self.stack.callback(self.db_proxy.stop)
        options = f"?options=-csearch_path%3D{schema}"
        direct = re.sub(r"^postgresql://", "postgresql+psycopg://", PG_DSN) + options
        proxied = f"postgresql+psycopg://{pg.group(1)}@127.0.0.1:{self.db_proxy.port}/{pg.group(4)}{options}"
        self._start_moto()
        self.bucket = f"mm-faults-{uuid.uuid4().hex[:8]}"
        self.s3 = boto3.client("s3", endpoint_url=self.moto_url, aws_access_key_id="test",
                               aws_secret_access_key="test", region_name="us-east-1")
        self.s3.create_bucket(Bucket=self.bucket)
        self.s3_proxy = TcpProxy("127.0.0.1", self.moto_port)
        self.stack.callback(self.s3_proxy.stop)
        self.staging = self._staging()
        settings = {
            **base_config(self.root, self.redis_url, direct), "STAGING_DIR": str(self.staging),
            "STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": self.moto_url, "S3_BUCKET": self.bucket,
            "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test", "S3_REGION": "us-east-1",
            "BULK_STALE_SECONDS": INTERVAL, "MAINTENANCE_INTERVAL": INTERVAL}
        migrate(settings)
        # The test looks at the database and the bucket directly, whatever the processes go through.
        self.app = create_app(settings)
        self.stack.enter_context(self.app.app_context())
        self.stack.callback(db.engine.dispose)
        self.stack.callback(db.session.remove)
        add_test_users(password_hash)
        # The processes reach PostgreSQL and S3 through the proxies the faults cut.
        self.process_app = SimpleNamespace(instance_path=self.app.instance_path, config={
            **self.app.config, "SQLALCHEMY_DATABASE_URI": proxied,
            "S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_proxy.port}"})
        self.process_settings = {"MAINTENANCE_INTERVAL": INTERVAL, "BULK_STALE_SECONDS": INTERVAL, "ACCESS_LOG": "1",
                                 "MAX_UPLOAD_BYTES": 64 * 1024**2}
        self.webs = [self._supervised(start_web(self.process_app, self.logs / f"web-{n}.log",
                                                **self.process_settings)) for n in (1, 2)]
        self.urls = [url for _process, url in self.webs]
        self.sockets_process, self.sockets_url = self._supervised(start_web(
            self.process_app, self.logs / "sockets.log", config="mediamgr/gunicorn_ws_conf.py",
            **self.process_settings))
        self.stack.callback(self._stop_workers)
        self.workers = [self.start_worker(n) for n in (1, 2)]

    def _supervised(self, started):
        self.stack.callback(_stop, started[0])
        return started

    def _stop_workers(self):
        for worker in self.workers:
            _stop(worker)

    # processes ---------------------------------------------------------------------------------------
    def _start_moto(self):
        self.moto_port = free_port()
        self.moto_url = f"http://127.0.0.1:{self.moto_port}"
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.moto_port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.stack.callback(_stop, process)
        wait_for(lambda: _answers(self.moto_url), 30, "moto's S3 server")

    def _staging(self):
        """A 256 MiB tmpfs when this runs as root (the disk-full fault fills it), else a plain folder."""
        folder = self.root / "staging"
        folder.mkdir()
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(folder)],
                                 capture_output=True, text=True)
        self.small_staging = mounted.returncode == 0
        if self.small_staging:
            self.stack.callback(subprocess.run, ["umount", "-l", str(folder)], check=False)
        self.staging_note = mounted.stderr.strip()
        return folder

    def start_worker(self, number):
        return start_worker(self.process_app, self.logs / f"worker-{number}.log", queues=("uploads", "bulk", "maintenance"),
                            **self.process_settings)

    def worker_log(self):
        return "\n".join(path.read_text(errors="replace")[-2500:] for path in sorted(self.logs.glob("worker-*.log")))

    def busy_worker(self, kind):
        """(index, process) of a worker running the job of an operation of `kind` ("upload", "bulk"), as
        RQ records it, or None. (A child process says nothing: each worker's scheduler is one too, and a
        worker may be busy with a maintenance round.)"""
        db.session.rollback()
        jobs = set(db.session.scalars(sa.select(Operation.job_id).where(Operation.kind == kind,
                                                                        Operation.status.in_(("queued", "running")))))
        try:
            running = {rq_worker.pid for rq_worker in Worker.all(connection=redis.Redis.from_url(self.redis_url))
                       if rq_worker.get_current_job_id() in jobs}
        except redis.RedisError:
            return None
        for index, worker in enumerate(self.workers):
            if worker.poll() is None and worker.pid in running:
                return index, worker
        return None

    def caught_at_work(self, kind, seconds=60):
        """(index, operation id, when it was frozen) of a worker caught running an operation of `kind`,
        frozen (SIGSTOP, it and its work horse) for kill_worker: from then on it does no work, so the
        fault's clock starts there. RQ's registry can be a moment behind (a job that has just
        finished), so the catch is checked: frozen, the worker must hold the operation still running,
        its heartbeat no longer moving; else it is let go (SIGCONT) and another is looked for."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            busy = self.busy_worker(kind)
            if busy is not None:
                index, worker = busy
                family = family_of(worker)
                signal_all(family, signal.SIGSTOP)
                frozen_at = time.monotonic()
                before = self._running(kind)
                time.sleep(1.5)  # longer than the heartbeat's interval
                after = self._running(kind)
                frozen = {key: value for key, value in after.items() if before.get(key) == value}
                if frozen:
                    return index, next(iter(frozen)), frozen_at
                signal_all(family, signal.SIGCONT)
            time.sleep(0.02)
        raise AssertionError(f"no worker was caught running a {kind} operation\n" + self.worker_log())

    def _running(self, kind):
        db.session.rollback()
        return {op.id: (op.job_id, op.heartbeat_at, op.processed) for op in db.session.scalars(
            sa.select(Operation).where(Operation.kind == kind, Operation.status == "running"))}

    def kill_worker(self, index):
        """SIGKILL to the worker and its work horse, as the kernel's OOM killer or a lost host would."""
        worker = self.workers[index]
        family = [worker.pid] + [child.pid for child in psutil.Process(worker.pid).children(recursive=True)]
        for pid in family:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        worker.wait()

    def restart_worker(self, index):
        """What systemd's Restart= or `make run`'s runner does for a worker that died."""
        self.workers[index] = self.start_worker(index + 1)

    def signal_workers(self, signum):
        for worker in self.workers:
            for process in [psutil.Process(worker.pid)] + psutil.Process(worker.pid).children(recursive=True):
                process.send_signal(signum)

    def stop_redis(self):
        embedded_redis.stop(self.redis_dir)

    def start_redis(self):
        """Empty, as a Redis without persistence comes back."""
        embedded_redis.ensure_running(self.redis_dir, persist=False)

    def restart_redis_empty(self):
        self.stop_redis()
        self.start_redis()

    def client(self, email="ada@example.com"):
        return Client(self.urls, email)

    # what the test checks ------------------------------------------------------------------------------
    def operations(self):
        db.session.rollback()
        return db.session.scalars(sa.select(Operation).order_by(Operation.id)).all()

    def wait_until_settled(self, seconds=120):
        """Until no upload or operation is queued or running; returns the moment it happened."""
        deadline = time.monotonic() + seconds
        while any(op.status in ACTIVE for op in self.operations()):
            if time.monotonic() > deadline:
                stuck = [(op.id, op.kind, op.status, op.stage, op.error) for op in self.operations()
                         if op.status in ACTIVE]
                raise AssertionError(f"operations still unfinished: {stuck}\n{self.worker_log()}")
            time.sleep(0.05)
        return time.monotonic()

    def bucket_keys(self):
        keys = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            keys.update(item["Key"] for item in page.get("Contents", []))
        return keys

    def wait_until_storage_matches(self, seconds=60):
        """Rows and bucket agree (the maintenance round removes the bytes of deleted rows): returns when."""
        deadline = time.monotonic() + seconds
        while True:
            problems = self.storage_problems()
            if not problems:
                return time.monotonic()
            if time.monotonic() > deadline:
                raise AssertionError(f"rows and storage disagree: {problems}\n{self.worker_log()}")
            time.sleep(0.1)

    def storage_problems(self):
        db.session.rollback()
        referenced = set()
        for media in db.session.scalars(sa.select(MediaFile)):
            referenced.add(media.storage_key)
            if media.thumbnail_key:
                referenced.add(media.thumbnail_key)
        referenced.update(db.session.scalars(sa.select(Rendition.storage_key)))
        for version in db.session.scalars(sa.select(MediaVersion).where(MediaVersion.status == "ready")):
            referenced.update(key for key in (version.storage_key, version.thumbnail_key) if key)
        stored = self.bucket_keys()
        problems = {}
        if stored - referenced:
            problems["orphan objects"] = sorted(stored - referenced)[:5]
        if referenced - stored:
            problems["missing objects"] = sorted(referenced - stored)[:5]
        pending = db.session.scalar(sa.select(sa.func.count()).select_from(PendingDeletion))
        if pending:
            problems["pending deletions"] = pending
        left = [path.name for path in self.staging.glob("*") if path.is_file()]
        if left:
            problems["staging files left"] = left[:5]
        unfinished = self.s3.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])
        if unfinished:
            problems["unfinished multipart uploads"] = len(unfinished)
        return problems

    def record(self, fault, fault_ended, recovered, resumed=None):
        """`resumed`: when the interrupted work was taken up again; `recovered`: when all of it was done
        and rows and storage agreed."""
        times = {"recovered": recovered - fault_ended}
        if resumed is not None:
            times["resumed"] = resumed - fault_ended
        self.recoveries[fault] = times
        print(f"fault {fault!r}: " + ", ".join(f"{what} {seconds:.2f} s ({seconds / INTERVAL:.2f} × "
                                                f"MAINTENANCE_INTERVAL)" for what, seconds in times.items())
              + f" after it ended; MAINTENANCE_INTERVAL = {INTERVAL} s")

    def close(self):
        self.stack.close()
        if RECOVERY_LOG:
            Path(RECOVERY_LOG).write_text(json.dumps({"maintenance_interval": INTERVAL, "recoveries": self.recoveries}))


def _answers(url):
    try:
        requests.get(url, timeout=5)
        return True
    except requests.RequestException:
        return False



def _stop(process):
    """SIGTERM to its process group (gunicorn's children, a work horse), SIGKILL after 20 s."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
