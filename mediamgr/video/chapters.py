"""Chapter markers proposed from scene changes. The keyframes show where the picture changed; there
the video is decoded cheaply (frames that nothing refers to and the loop filter skipped), brought to
SCENE_FPS frames a second at SCENE_WIDTH pixels wide, and libavfilter's `scdet` scores each frame
against the one before: a slide change scores high, a speaker moving or camera noise low. Changes closer than a minimum gap are merged (a slide built up
in steps is one chapter), and the markers are named "Chapter 1", "Chapter 2"… from 0:00."""
from dataclasses import dataclass

import av

from .keyframes import picture_of, stretches_to_look_at

SCENE_FPS = 4
SCENE_WIDTH = 160
# scdet's score (0–100) above which a frame starts a new scene: slides that share a background still
# differ by 6 or more, camera noise and a moving speaker stay under 2.
SCENE_THRESHOLD = 6.0
MAX_MARKERS = 100
END_MARGIN = 2.0  # a change this close to the end starts no chapter: nothing would be in it


class DetectionStopped(Exception):
    """should_stop() said so."""


@dataclass(frozen=True)
class ProposedMarker:
    seconds: float
    title: str


def scene_changes(path, *, threshold=SCENE_THRESHOLD, should_stop=None, progress=None):
    """The times (seconds) at which the picture changes, in order. Two passes keep it cheap: the
    keyframes alone (a few a minute) show between which of them the picture changed; only those
    stretches are then decoded and scored frame by frame (scdet), which places the change."""
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = next(iter(container.streams.video), None)
        if stream is None:
            return []
        stretches = _changed_stretches(container, stream, should_stop, progress)
    times = []
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = container.streams.video[0]
        _decoder(stream, "NONREF")
        for first, last in stretches:
            if should_stop and should_stop():
                raise DetectionStopped()
            times.extend(_changes_between(container, stream, first, last, threshold))
    return sorted(set(times))


def _decoder(stream, skip):
    stream.thread_type = "NONE"  # one core: the processing worker runs several jobs side by side
    stream.codec_context.options = {"skip_loop_filter": "all"}
    stream.codec_context.skip_frame = skip


def _changed_stretches(container, stream, should_stop, progress):
    """The stretches between keyframes where the picture changed (video.keyframes)."""
    _decoder(stream, "NONKEY")
    duration = container.duration / av.time_base if container.duration else None
    keyframes = []
    for frame in container.decode(stream):
        if frame.time is None:
            continue
        keyframes.append((frame.time, picture_of(frame)))
        if should_stop and should_stop():
            raise DetectionStopped()
        if progress and duration:
            progress(min(0.5, frame.time / duration / 2))
    return stretches_to_look_at(keyframes, duration)


def _changes_between(container, stream, first, last, threshold):
    """scdet's changes among the frames from `first` to `last` seconds (`last` None: to the end),
    brought to SCENE_FPS frames a second at SCENE_WIDTH pixels."""
    graph = av.filter.Graph()
    chain = [graph.add_buffer(template=stream), graph.add("fps", f"fps={SCENE_FPS}"),
             graph.add("scale", f"{SCENE_WIDTH}:-2:flags=fast_bilinear"),
             graph.add("scdet", f"threshold={threshold}"), graph.add("buffersink")]
    for source, target in zip(chain, chain[1:]):
        source.link_to(target)
    graph.configure()
    container.seek(int(first / stream.time_base), stream=stream, backward=True, any_frame=False)
    times = []
    for frame in container.decode(stream):
        if frame.time is None or frame.time < first - 1e-6:
            continue
        graph.push(frame)
        times.extend(_changes(graph))
        if last is not None and frame.time >= last + 1 / SCENE_FPS:  # past the grid point at `last`: it is out
            break
    graph.push(None)
    times.extend(_changes(graph))
    return [at for at in times if at > first + 1e-6]


def _changes(graph):
    while True:
        try:
            frame = graph.pull()
        except (av.BlockingIOError, av.EOFError):
            return
        at = frame.metadata.get("lavfi.scd.time")
        if at is not None:
            yield float(at)


def minimum_gap(duration):
    """Changes closer than this merge into one chapter: a twentieth of the video, between 3 s and 30 s
    (a 1-hour lecture gets chapters at least half a minute apart, a 1-minute clip every 3 s)."""
    return min(30.0, max(3.0, (duration or 0) / 20))


def propose_markers(changes, duration, min_gap=None):
    """Markers from scene changes: one at 0:00, then each change at least `min_gap` after the marker
    before it and more than END_MARGIN before the end; at most MAX_MARKERS."""
    gap = minimum_gap(duration) if min_gap is None else min_gap
    starts = [0.0]
    for at in sorted(changes):
        if at - starts[-1] >= gap and (duration is None or at < duration - END_MARGIN):
            starts.append(round(at, 3))
        if len(starts) == MAX_MARKERS:
            break
    return [ProposedMarker(seconds, f"Chapter {number}") for number, seconds in enumerate(starts, start=1)]

