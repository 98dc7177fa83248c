"""The video features' costs (issue 14 §6), each run in a process of its own on ONE core (taskset) so
that the CPU time is one core's: scene detection and the quality analysis, in CPU seconds per minute
of 1080p30 video (target ≤ 5 s each); the web rendition of 1080p, as × realtime on one core; and the
peak resident memory of the processing worker while it transcodes a 1 GiB file as the job does (its threads; target
≤ 300 MB, the kernel's peak).

The test lecture is made here with PyAV (tests/media_lab.py's slides): a slide that changes every
20 s, a "speaker" that moves over it and sensor noise, so that the H.264 stream has the bitrate of
a real recording (a few Mb/s), not the few kb/s of still slides."""
import json
import random
import statistics
import subprocess
import sys
import time
from fractions import Fraction

import av
from PIL import Image, ImageDraw

from .report import Check
from .services import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "tests"))
import media_lab  # noqa: E402  (the suite's slides: one home for them)

MINUTE_SECONDS = 60
SIZE = (1920, 1080)
FPS = 30
TARGET_CPU_PER_MINUTE = 5.0
TARGET_RSS_MB = 300
BIG_BYTES = 1024**3

# Run in a child on one core: prints one JSON line {"cpu": seconds, "rss_kb": peak, ...}.
CHILD = r"""
import json, sys, time
sys.path.insert(0, "tests")
what, path = sys.argv[1], sys.argv[2]
started = time.process_time()
if what == "scenes":
    from mediamgr.video.chapters import scene_changes
    found = len(scene_changes(path))
elif what == "quality":
    from mediamgr.video.quality import analyse
    found = analyse(path).score
else:  # "rendition": on one thread (speed); "worker": as the processing job runs it (its threads)
    import mediamgr.jobs.processing  # noqa: F401  (the worker's job and all it loads: its memory counts)
    from mediamgr.video.transforms import web_rendition
    found = web_rendition(path, sys.argv[3], threads=1 if what == "rendition" else None).duration_seconds
cpu = time.process_time() - started
# VmHWM, not ru_maxrss: after fork and exec, ru_maxrss keeps the high-water mark of the forked copy of
# the parent (this benchmark, which holds hundreds of MB), not this process's own.
peak = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
print(json.dumps({"cpu": cpu, "rss_kb": peak, "found": found}))
"""


def lecture_1080p(path, seconds, noise=6):
    """A camera-like lecture: slides every 20 s, a moving speaker, noise on every frame."""
    rng = random.Random(7)
    grains = [Image.effect_noise((480, 270), 40 + 10 * i).resize(SIZE).convert("RGB") for i in range(6)]
    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=FPS, options={"preset": "veryfast", "crf": "20"})
        stream.width, stream.height, stream.pix_fmt, stream.time_base = *SIZE, "yuv420p", Fraction(1, FPS)
        for index in range(seconds * FPS):
            slide = media_lab.slide_image(index // (20 * FPS), SIZE)
            frame_image = Image.blend(slide, grains[rng.randrange(len(grains))], noise / 100)
            x = 1300 + int(200 * ((index % 240) / 240))
            ImageDraw.Draw(frame_image).rectangle((x, 500, x + 300, 1080), fill=(70, 50, 40))
            frame = av.VideoFrame.from_image(frame_image)
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode())
    return path


def big_input(path, target_bytes=BIG_BYTES):
    """A ~1 GiB 1080p file cheap to make: MPEG-4 Part 2 at a high quality of noisy slides."""
    grains = [Image.effect_noise((960, 540), 60 + 5 * i).resize(SIZE).convert("RGB") for i in range(12)]
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream("mpeg4", rate=FPS, options={"qscale": "2"})
        stream.width, stream.height, stream.pix_fmt, stream.time_base = *SIZE, "yuv420p", Fraction(1, FPS)
        frames = [av.VideoFrame.from_image(Image.blend(media_lab.slide_image(i, SIZE), grains[i], 0.35))
                  for i in range(len(grains))]
        index = 0
        while index % 300 or not path.exists() or path.stat().st_size < target_bytes:  # looked at every 10 s of video
            frame = frames[index % len(frames)]
            frame.pts = index
            output.mux(stream.encode(frame))
            index += 1
        output.mux(stream.encode())
    return path, index / FPS


def _child(what, *args, sample_rss=False):
    """One measurement in a process pinned to one core, with its own peak resident memory (VmHWM);
    with `sample_rss`, the peak VmRSS seen by sampling /proc every 0.2 s as well."""
    process = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", CHILD, what, *map(str, args)],
                               cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_sampled = 0
    started = time.perf_counter()
    while process.poll() is None:
        if sample_rss:
            try:
                status = open(f"/proc/{process.pid}/status").read()
                peak_sampled = max(peak_sampled, int(status.split("VmRSS:")[1].split()[0]))
            except (OSError, IndexError, ValueError):
                pass
        time.sleep(0.2)
    wall = time.perf_counter() - started
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{what} failed: {err[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    return {**result, "wall": wall, "rss_sampled_kb": peak_sampled}


def _median_p95(values):
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run(workspace, report, rounds):
    folder = workspace.path("video")
    started = time.perf_counter()
    lecture = lecture_1080p(folder / "lecture-1080p.mp4", MINUTE_SECONDS)
    with av.open(str(lecture)) as container:
        bitrate = container.bit_rate
    print(f"  1080p lecture: {lecture.stat().st_size / 1e6:.0f} MB, {bitrate / 1e6:.1f} Mb/s, made in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    for what, label in (("scenes", "scene detection"), ("quality", "quality analysis")):
        runs = [_child(what, lecture) for _ in range(rounds)]
        median, p95 = _median_p95([r["cpu"] for r in runs])
        report.add(Check(f"{label} · CPU per minute of 1080p30 ({bitrate / 1e6:.1f} Mb/s)",
                         f"{median:.2f} s median, {p95:.2f} s p95 of {rounds} runs on one core",
                         f"≤ {TARGET_CPU_PER_MINUTE:.0f} s", p95 <= TARGET_CPU_PER_MINUTE,
                         {"runs": runs, "bitrate": bitrate}))
    runs = [_child("rendition", lecture, folder / "web.mp4") for _ in range(rounds)]
    speeds = [MINUTE_SECONDS / r["cpu"] for r in runs]
    median, _ = _median_p95(speeds)
    report.add(Check("web rendition of 1080p30 · × realtime on one core (H.264 veryfast CRF 23 + AAC)",
                     f"{median:.2f}× median (slowest {min(speeds):.2f}×) of {rounds} runs", "", None,
                     {"runs": runs}))

    started = time.perf_counter()
    big, seconds = big_input(folder / "big.mp4")
    print(f"  1 GiB input: {big.stat().st_size / 2**20:.0f} MiB, {seconds:.0f} s of 1080p, made in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    result = _child("worker", big, folder / "big-web.mp4", sample_rss=True)
    peak_mb = max(result["rss_kb"], result["rss_sampled_kb"]) / 1024
    report.add(Check(f"processing worker memory · web rendition of a {big.stat().st_size / 2**30:.2f} GiB file",
                     f"peak RSS {peak_mb:.0f} MB (sampled every 0.2 s: {result['rss_sampled_kb'] / 1024:.0f} MB; "
                     f"{result['cpu']:.0f} s CPU, the job's own threads)",
                     f"≤ {TARGET_RSS_MB} MB", peak_mb <= TARGET_RSS_MB, result))
    big.unlink(missing_ok=True)
