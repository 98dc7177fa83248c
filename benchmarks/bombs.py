"""Decompression bombs through the real pipeline: each uploaded over HTTP to gunicorn, then processed
by a worker process of its own (worker.py, burst mode), whose log gives its work horses' peak
resident memory as the kernel counts it (RUSAGE_CHILDREN). The target: every peak within the work
horse's memory limit (JOB_MEMORY_LIMIT_BYTES, 3 GiB by default), where the reliability run saw
4.6 GiB for the image and 3.7 GiB for the PDF."""
import re
import sys
import time
from urllib.parse import quote

import sqlalchemy as sa

from mediamgr import create_app
from mediamgr.config import parse_size
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile

from .ingest import UploadServer
from .report import Check
from .services import PROJECT_ROOT, start_process

sys.path.insert(0, str(PROJECT_ROOT / "tests"))
import media_samples  # noqa: E402  (the suite's bomb makers: one home for them)

MiB = 1024**2
DEFAULT_LIMIT = "3GiB"
BOMBS = (  # name, bytes, extra worker settings, what the reliability run measured before
    ("poster.png", lambda: media_samples.png_bomb(20_000, 20_000), {}, "4.6 GiB"),
    ("scroll.pdf", lambda: media_samples.pdf_with_page(612, 1_000_000), {}, "3.7 GiB"),
    ("poster-past-the-cap.png", lambda: media_samples.png_bomb(30_000, 30_000), {"MAX_IMAGE_PIXELS": "2000000000"},
     "—"),
)


def run(workspace, report):
    folder = workspace.path("bombs")
    limit = parse_size("JOB_MEMORY_LIMIT_BYTES", DEFAULT_LIMIT)
    with UploadServer(folder, workspace.redis_url) as server:
        session = server.logged_in_session()
        app = create_app({"SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"], "REDIS_URL": server.env["REDIS_URL"],
                          "INSTANCE_PATH": server.env["INSTANCE_PATH"], "SECRET_KEY": server.env["SECRET_KEY"]})
        for name, make, settings, before in BOMBS:
            content = make()
            answer = session.post(server.url + "/media/upload", data=content, headers={
                "X-CSRFToken": session.csrf_token, "X-Filename": quote(name),
                "Content-Type": "application/octet-stream", "X-Requested-With": "XMLHttpRequest"})
            if answer.status_code != 201:
                raise RuntimeError(f"{name}: the upload answered {answer.status_code}")
            log_path = folder / f"worker-{name}.log"
            started = time.perf_counter()
            worker = start_process([sys.executable, "worker.py", "--queues", "uploads", "--burst"],
                                   env=server.env | {"JOB_MEMORY_LIMIT_BYTES": DEFAULT_LIMIT, **settings},
                                   log_path=log_path)
            exit_status = worker.wait(timeout=900)
            seconds = time.perf_counter() - started
            peaks = re.findall(r"work horses' peak memory: (\d+) MiB", log_path.read_text(errors="replace"))
            if exit_status != 0 or not peaks:
                raise RuntimeError(f"{name}: the worker exited with {exit_status}\n" + log_path.read_text()[-2000:])
            peak = int(peaks[-1]) * MiB
            with app.app_context():
                media = db.session.scalars(sa.select(MediaFile).where(MediaFile.name == name)).one()
                status = media.status
                outcome = status + (f": {media.failure_reason}" if media.failure_reason else
                                    (", with a thumbnail" if media.thumbnail_key else ", no thumbnail"))
                db.session.remove()
            report.add(Check(f"bomb {name} ({len(content):,} bytes{', ' + ', '.join(f'{k}={v}' for k, v in settings.items()) if settings else ''})",
                             f"work horse peak RSS {peak / MiB:,.0f} MiB in {seconds:.1f} s (before: {before}); "
                             f"{outcome}", f"≤ {limit / MiB:,.0f} MiB (JOB_MEMORY_LIMIT_BYTES)", peak <= limit,
                             {"peak_bytes": peak, "seconds": seconds, "status": status}))
        with app.app_context():
            db.engine.dispose()
