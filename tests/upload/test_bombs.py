"""Decompression bombs fail (or are made small) alone: an image declaring too many pixels is refused
from its header, a PDF page claiming to be a kilometre tall is rendered within a pixel budget, and
every work horse runs under a memory limit, so one file never takes the worker or the machine.

Memory is read the way the kernel counts it: the peak resident size of a real worker process and
its work horses (wait4's rusage), not a timing or a guess."""
import re
import resource

from rq.job import Job

from mediamgr.extensions import db, redis_connection
from mediamgr.jobs.names import UPLOADS, get_queue
from mediamgr.library.models import MediaFile, Rendition
from mediamgr.progress.models import Operation

from helpers import start_worker

MiB = 1024**2


def run_worker_to_the_end(app, tmp_path, **settings):
    """A real worker in burst mode on the uploads queue; returns (exit status, the peak RSS in bytes of
    its work horses, as the worker reads it from the kernel when it stops). (The test process's own
    rusage would count the pages a fork copies from it, however large the test run has grown.)"""
    log_path = tmp_path / "worker.log"
    process = start_worker(app, log_path, queues=("uploads",), burst=True, **settings)
    assert process.wait(timeout=300) == 0, log_path.read_text()[-3000:]
    peak = re.findall(r"work horses' peak memory: (\d+) MiB", log_path.read_text())
    return process.returncode, int(peak[-1]) * MiB


def by_name(name):
    db.session.rollback()
    return db.session.scalars(db.select(MediaFile).where(MediaFile.name == name)).one()


def test_an_image_bomb_fails_from_its_header_with_the_reason_and_no_retry(ada, worker, samples):
    ada.upload("poster.png", samples.png_bomb(20_000, 20_000))
    ada.upload("after.png", samples.png_bytes())
    worker()
    bomb = by_name("poster.png")
    assert bomb.status == "failed"
    assert bomb.failure_reason == ("The image is too large to process: 20,000 × 20,000 pixels (400 megapixels); "
                                   "the limit is 100 megapixels.")
    operation = db.session.scalars(db.select(Operation).where(Operation.media_id == bomb.id)).one()
    assert operation.details["retryable"] is False
    assert "Retry processing" not in ada.get(f"/media/{bomb.id}", htmx=True).get_data(as_text=True)
    assert by_name("after.png").status == "ready"  # the next file in the queue is not held up


def test_the_pixel_cap_is_a_setting(app, ada, worker, samples):
    app.config["MAX_IMAGE_PIXELS"] = 1_000_000
    ada.upload("wide.png", samples.png_bytes(1200, 1000))
    worker()
    assert "1,200 × 1,000 pixels (1 megapixels); the limit is 1 megapixels" in by_name("wide.png").failure_reason


def test_bombs_cost_a_real_worker_little_memory_and_a_tall_pdf_is_still_previewed(app, ada, samples, tmp_path):
    ada.upload("poster.png", samples.png_bomb(20_000, 20_000))
    ada.upload("scroll.pdf", samples.pdf_with_page(612, 1_000_000))  # 222 bytes, a page 350 km tall
    ada.upload("after.png", samples.png_bytes())
    _status, peak = run_worker_to_the_end(app, tmp_path)
    assert peak < 600 * MiB, f"the worker's peak RSS was {peak / MiB:,.0f} MiB"
    assert by_name("poster.png").status == "failed"
    scroll = by_name("scroll.pdf")
    assert scroll.status == "ready" and scroll.thumbnail_key and scroll.page_count == 1
    page = db.session.scalars(db.select(Rendition).where(Rendition.media_id == scroll.id)).one()
    assert page.width * page.height <= 3_000_000
    assert by_name("after.png").status == "ready"


def test_every_work_horse_runs_under_the_memory_limit(app, tmp_path):
    job = get_queue(UPLOADS).enqueue("resource.getrlimit", resource.RLIMIT_AS)
    run_worker_to_the_end(app, tmp_path, JOB_MEMORY_LIMIT_BYTES="900MiB")
    soft, _hard = Job.fetch(job.id, connection=redis_connection.client).return_value()
    assert soft == 900 * MiB


def test_a_bomb_the_pixel_cap_lets_through_cannot_pass_the_memory_limit(app, ada, samples, tmp_path):
    """With the cap raised out of the way, the decode itself meets the limit: the worker survives and
    the file is left without a thumbnail or failed with a reason, never half-written."""
    limit_mib = 700
    ada.upload("poster.png", samples.png_bomb(30_000, 30_000))  # 900 Mpx: 900 MiB decoded, 2.6 GiB as RGB
    ada.upload("after.png", samples.png_bytes())
    _status, peak = run_worker_to_the_end(app, tmp_path, MAX_IMAGE_PIXELS="2000000000",
                                          JOB_MEMORY_LIMIT_BYTES=f"{limit_mib}MiB")
    assert peak <= limit_mib * MiB, f"the worker's peak RSS was {peak / MiB:,.0f} MiB"
    bomb = by_name("poster.png")
    assert (bomb.status == "ready" and bomb.thumbnail_key is None) or (
        bomb.status == "failed" and "needs more memory to process" in bomb.failure_reason)
    assert by_name("after.png").status == "ready"
