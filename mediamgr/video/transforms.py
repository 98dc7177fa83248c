"""New files made from a stored video or audio file: a web rendition (H.264/AAC MP4), a trim, a loudness
correction, a watermark and the audio alone (the storyboard of thumbnails: video.storyboard). Pure functions over local paths,
streaming frame by frame with PyAV so memory stays flat whatever the file's length."""
import functools
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image, UnidentifiedImageError

from .playable import container_family

log = logging.getLogger(__name__)

# Seconds of 1080p30 lecture made per second of one core: veryfast ×2.6, faster ×1.8, fast ×1.7 (same size).
PRESET = "veryfast"
# Memory at 1080p is x264's frames: no lookahead thread and a 5-frame lookahead (veryfast's is 10) save 60 MB
# for a 0.2 % larger lecture. A worker (111 MB before it starts) peaked at 283 MB transcoding a 1 GiB file
# with two threads; more threads hold more frames for little gain on a shared machine.
X264_OPTIONS = {"preset": PRESET, "crf": "23", "profile": "high", "x264-params": "sync-lookahead=0:rc-lookahead=5"}
DEFAULT_THREADS = min(2, os.cpu_count() or 1)
AUDIO_BIT_RATE = 128_000
PEAK_LIMIT = 0.89  # -1 dBFS; the alimiter looks at samples, not true (inter-sample) peaks
PROGRESS_EVERY_SECONDS, STOP_POLL_EVERY_FRAMES = 0.25, 8
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
# Filters that stand a phone recording upright, by its VideoFrame.rotation (degrees counter-clockwise).
UPRIGHT = {90: [("transpose", "cclock")], -90: [("transpose", "clock")], 180: [("hflip", None), ("vflip", None)],
           -180: [("hflip", None), ("vflip", None)]}


class ProcessingStopped(Exception):
    """should_stop() asked for it; the partial output has been removed."""


class ProcessingFailed(Exception):
    """The file could not be made; the message is for the user (the decoder's words go to the log)."""


@dataclass
class Output:
    path: str
    duration_seconds: float | None
    width: int | None
    height: int | None
    video_codec: str | None
    audio_codec: str | None


def output_suffix(src):
    """How to name what these functions make from `src`: ".mp4" when it has video, ".m4a" when it is audio
    only (they write those containers whatever `dst` is called)."""
    with opened(src) as source:
        return ".mp4" if video_stream(source) is not None else ".m4a"


def web_rendition(src, dst, *, max_height=1080, threads=None, progress=None, should_stop=None):
    """An MP4 every browser plays: H.264 High (CRF 23, upright, at most `max_height` lines high) and AAC
    128 kb/s, its index first (faststart). An audio-only source becomes AAC in M4A (see output_suffix)."""
    with making(dst), opened(src) as source:
        _Pass(source, dst, Watch(progress, should_stop), threads, max_height=max_height).run()
    return _probe(dst)


def trim(src, dst, start, end, *, threads=None, progress=None, should_stop=None):
    """The part [start, end) seconds of `src`, cut at the frame (decoded from the keyframe before `start`,
    re-encoded as web_rendition does) with its audio cut to the same samples. `dst` is written as MP4 when
    `src` has video and as M4A (AAC) when it is audio only: name it by output_suffix()."""
    with making(dst), opened(src) as source:
        duration = stream_duration(source, video_stream(source) or next(iter(source.streams.audio), None))
        end = min(end, duration) if duration else end
        if start < 0 or end <= start:
            raise ProcessingFailed("The end of the trim must come after its start, within the file.")
        _Pass(source, dst, Watch(progress, should_stop), threads, span=(start, end)).run()
    return _probe(dst)


def normalise_loudness(src, dst, *, gain_db, threads=None, progress=None, should_stop=None):
    """`src` with `gain_db` applied to its audio and its peaks held under -1 dBFS. H.264 video in MP4/MOV
    is copied as it is (packets remuxed); other video is re-encoded as web_rendition does."""
    with making(dst), opened(src) as source:
        if not source.streams.audio:
            raise ProcessingFailed("The file has no audio to normalise.")
        video = video_stream(source)
        copy = video is not None and video.codec_context.name == "h264" and container_family(source.format.name) == "mp4"
        # level=disabled: by default alimiter also raises the whole signal to the limit, undoing the gain.
        gain = [("volume", f"{gain_db:.2f}dB"), ("alimiter", f"limit={PEAK_LIMIT}:level=disabled:latency=1")]
        _Pass(source, dst, Watch(progress, should_stop), threads, copy_video=copy, audio_filters=gain).run()
    return _probe(dst)


def watermark(src, dst, image_path, *, corner="bottom-right", opacity=0.3, scale=0.15, margin=0.03, threads=None,
              progress=None, should_stop=None):
    """`src` as a web rendition with the image (PNG with alpha, or JPEG) in a corner: `scale` × the video's
    width wide, at `opacity`, `margin` × the width from both edges; blended by the overlay filter."""
    if corner not in CORNERS:
        raise ValueError(f"corner must be one of {', '.join(CORNERS)}")
    logo = functools.partial(_logo, image_path, corner=corner, opacity=opacity, scale=scale, margin=margin)
    with making(dst), opened(src) as source:
        if video_stream(source) is None:
            raise ProcessingFailed("The file has no video to watermark.")
        _Pass(source, dst, Watch(progress, should_stop), threads, logo=logo).run()
    return _probe(dst)


def extract_audio(src, dst, *, progress=None, should_stop=None):
    """The audio of `src` alone, as AAC 128 kb/s in an M4A `dst`."""
    with making(dst), opened(src) as source:
        if not source.streams.audio:
            raise ProcessingFailed("The file has no audio to extract.")
        _Pass(source, dst, Watch(progress, should_stop), keep_video=False).run()
    return _probe(dst)


# ---- one pass from source to output ----------------------------------------------------------------

class _Pass:
    """One read of the source into `dst`: demux, decode, filter, encode (or copy the video), mux. With a
    `span` (start, end) in seconds from the first frame only that part is read, and it starts at 0."""

    def __init__(self, source, dst, watch, threads=None, *, max_height=1080, span=None, keep_video=True,
                 copy_video=False, audio_filters=(), logo=None):
        self.source, self.dst, self.watch = source, dst, watch
        self.video_in = video_stream(source) if keep_video else None
        self.audio_in = next(iter(source.streams.audio), None)
        if self.video_in is None and self.audio_in is None:
            raise ProcessingFailed("The file has no video or audio that could be read.")
        self.main = self.video_in or self.audio_in
        origin = start_seconds(self.main)
        self.window = (origin + span[0], origin + span[1]) if span else None
        self.zero, self.total = (self.window[0], span[1] - span[0]) if span else (origin, stream_duration(source, self.main))
        self.threads, self.max_height, self.logo = threads or DEFAULT_THREADS, max_height, logo
        self.copy_video, self.audio_filters, self.copied = copy_video, audio_filters, None

    def run(self):
        # container_options reach the muxer only (`options` would be handed to the codecs as well).
        with av.open(str(self.dst), "w", format="mp4" if self.video_in is not None else "ipod",
                     container_options={"movflags": "+faststart"}) as self.output:
            chains = {chain.source: chain for chain in self._chains()}
            if self.window and self.window[0] > start_seconds(self.main):
                self.source.seek(int(self.window[0] / self.main.time_base), stream=self.main, backward=True)
            for packet in self.source.demux([*chains, *([self.copied[0]] if self.copied else [])]):
                if self.copied and packet.stream is self.copied[0]:
                    self._copy(packet)
                    continue
                for frame in packet.decode():
                    self._tick(chains[packet.stream].push(frame))
                if all(chain.done for chain in chains.values()):
                    break
            for chain in chains.values():
                chain.finish()
        self.watch.finish()

    def _chains(self):
        if self.video_in is not None and self.copy_video:
            self.copied = self.video_in, self.output.add_stream_from_template(self.video_in)
        elif self.video_in is not None:
            yield _VideoChain(self.video_in, self.output, self.window, self.threads, self.max_height,
                              display_rotation(self.source.name), self.logo)
        if self.audio_in is not None:
            yield _AudioChain(self.audio_in, self.output, self.window, self.audio_filters)

    def _copy(self, packet):
        if packet.dts is None:  # the demuxer's end-of-stream marker
            return
        self._tick(float(packet.pts * packet.time_base) if packet.pts is not None else None)
        packet.stream = self.copied[1]
        self.output.mux(packet)

    def _tick(self, seconds):
        self.watch.tick(None if seconds is None else seconds - self.zero, self.total)


class _Chain:
    """Decoded frames of one source stream → a filter graph → an encoder → the muxer."""
    done = False  # nothing more of this stream is wanted (a trim's end has passed)
    graph = None

    def _filter(self, frame):
        if self.graph is None:
            self.graph = av.filter.Graph()
            self._build_graph(frame)
        try:
            self.graph_source.push(frame)
        except av.EOFError:  # the graph has ended its output: a trim's end fell within the last frame
            self.done = True
        self._drain()

    def _drain(self):
        while True:
            try:
                frame = self.sink.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            self.output.mux(self.stream.encode(frame))

    def finish(self):
        if self.graph is not None:
            self.graph_source.push(None)
            self._drain()
        self.output.mux(self.stream.encode(None))


class _VideoChain(_Chain):
    """Frames → upright, at most `max_height` lines, yuv420p, the logo if any → libx264. Timestamps pass
    through as they are (a variable frame rate stays as it was), shifted only by a trim."""

    def __init__(self, source, output, window, threads, max_height, rotation, logo):
        self.source, self.output, self.window, self.rotation = source, output, window, rotation
        source.codec_context.thread_type, source.codec_context.thread_count = "AUTO", threads
        width, height = source.codec_context.width, source.codec_context.height
        self.size = _web_size((height, width) if rotation in (90, -90) else (width, height), max_height)
        self.logo = logo(self.size) if logo else None
        rate = source.average_rate or source.guessed_rate or 30
        self.stream = output.add_stream("libx264", rate=rate)
        self.stream.width, self.stream.height = self.size
        self.stream.pix_fmt = "yuv420p"
        self.stream.time_base = self.stream.codec_context.time_base = source.time_base
        # PyAV's default thread type (slice) makes x264 use sliced threads, which compress worse.
        self.stream.codec_context.thread_type, self.stream.codec_context.thread_count = "FRAME", threads
        self.stream.options = dict(X264_OPTIONS)
        self.step = max(1, round(1 / (rate * source.time_base)))
        self.held = self.last_pts = None

    def push(self, frame):
        """Filter and encode `frame` if it is in the window; the seconds it is at."""
        if frame.pts is None:  # a raw stream has no timestamps: the frame rate gives them
            frame.pts = 0 if self.last_pts is None else self.last_pts + self.step
        if self.last_pts is not None and frame.pts <= self.last_pts:
            return None  # x264 needs rising timestamps: a repeated one is a duplicate frame
        self.last_pts, seconds = frame.pts, float(frame.pts * frame.time_base)
        for kept in self._within_window(frame) if self.window else [frame]:
            self._filter(kept)
        return seconds

    def _within_window(self, frame):
        """Frames before the start are held back: the last of them is still on screen at the start when
        the next frame comes later, so it is kept, retimed to the start."""
        start, end = (round(at / frame.time_base) for at in self.window)
        if frame.pts < start:
            self.held = frame
            return []
        if frame.pts >= end:
            self.done = True
            return []
        kept = [self.held] if self.held is not None and frame.pts > start else []
        self.held = None
        for each in kept:
            each.pts = start
        for each in (*kept, frame):
            each.pts -= start
        return [*kept, frame]

    def _build_graph(self, frame):
        self.graph_source = self.graph.add_buffer(width=frame.width, height=frame.height, format=frame.format,
                                                  time_base=frame.time_base)
        # out_range=tv: full-range (JPEG-style) pictures are squeezed to the range players expect of H.264.
        scale = ("scale", "{}:{}:out_range=tv".format(*self.size))
        steps = [*UPRIGHT.get(self.rotation, []), scale, ("format", "yuv420p")]
        nodes = [self.graph_source, *(self.graph.add(name, args) for name, args in steps)]
        if self.logo is not None:
            logo_source = self.graph.add_buffer(width=self.logo.image.width, height=self.logo.image.height,
                                                format="rgba", time_base=frame.time_base)
            overlay = self.graph.add("overlay", f"x={self.logo.x}:y={self.logo.y}")
            logo_source.link_to(overlay, 0, 1)
            nodes += [overlay, self.graph.add("format", "yuv420p")]
        self.sink = self.graph.add("buffersink")
        self.graph.link_nodes(*nodes, self.sink).configure()
        if self.logo is not None:
            logo_source.push(_logo_frame(self.logo.image, frame.pts, frame.time_base))
            logo_source.push(None)  # the overlay goes on showing its last frame to the end


class _AudioChain(_Chain):
    """Frames → `filters`, a trim's cut, resampling to the timestamps (sound stays in sync over gaps) →
    AAC 128 kb/s with the source's channels (mono stays mono, more than two become stereo)."""

    def __init__(self, source, output, window, filters):
        self.source, self.output, self.window = source, output, window
        cut = [("atrim", f"start=0:end={window[1] - window[0]}")] if window else []
        self.steps = [*filters, *cut, ("aresample", "async=1")]
        rate = source.codec_context.sample_rate
        self.stream = output.add_stream("aac", rate=rate if rate in av.Codec("aac", "w").audio_rates else 48000)
        self.stream.layout = "mono" if source.codec_context.channels == 1 else "stereo"
        self.stream.bit_rate = AUDIO_BIT_RATE

    def push(self, frame):
        """Filter and encode `frame` (shifted so a trim's start is 0); the seconds it is at."""
        seconds = float(frame.pts * frame.time_base) if frame.pts is not None else None
        if self.window and seconds is not None:
            self.done = self.done or seconds >= self.window[1]
            if self.done:
                return seconds  # atrim has ended its output and takes no more frames
            frame.pts -= round(self.window[0] / frame.time_base)
        self._filter(frame)
        return seconds

    def _build_graph(self, frame):
        self.graph_source = self.graph.add_abuffer(sample_rate=frame.sample_rate, format=frame.format.name,
                                                   layout=frame.layout.name, time_base=frame.time_base)
        self.sink = self.graph.add("abuffersink")
        self.graph.link_nodes(self.graph_source, *(self.graph.add(name, args) for name, args in self.steps),
                              self.sink).configure()


class Watch:
    """Progress reported at most every PROGRESS_EVERY_SECONDS, and should_stop polled every few frames."""

    def __init__(self, progress, should_stop):
        self.progress, self.should_stop = progress, should_stop
        self.frames, self.reported_at = 0, time.monotonic()

    def tick(self, seconds, total):
        self.frames += 1
        if self.should_stop and self.frames % STOP_POLL_EVERY_FRAMES == 0 and self.should_stop():
            raise ProcessingStopped()
        now = time.monotonic()
        if self.progress and seconds is not None and total and now - self.reported_at >= PROGRESS_EVERY_SECONDS:
            self.reported_at = now
            self.progress(min(1.0, max(0.0, seconds / total)))

    def finish(self):
        if self.progress:
            self.progress(1.0)


# ---- watermark and shared helpers -------------------------------------------------------

@dataclass
class _Logo:
    image: Image.Image  # RGBA, its alpha already multiplied by the opacity
    x: int
    y: int


def _logo(image_path, video_size, *, corner, opacity, scale, margin):
    try:
        with Image.open(image_path) as opened:
            image = opened.convert("RGBA")
    except (OSError, UnidentifiedImageError) as error:
        raise ProcessingFailed("The watermark image could not be read.") from error
    width = max(2, round(video_size[0] * scale))
    image = image.resize((width, max(2, round(image.height * width / image.width))), Image.LANCZOS)
    image.putalpha(image.getchannel("A").point(lambda alpha: round(alpha * opacity)))
    gap = round(margin * video_size[0])
    x = gap if corner.endswith("left") else video_size[0] - image.width - gap
    y = gap if corner.startswith("top") else video_size[1] - image.height - gap
    return _Logo(image, max(0, x), max(0, y))


def _logo_frame(image, pts, time_base):
    frame = av.VideoFrame.from_image(image)
    frame.pts, frame.time_base = pts, time_base
    return frame


def _web_size(size, max_height):
    """`size` no taller than `max_height`, keeping its shape, both sides even (as yuv420p needs)."""
    width, height = size
    if height > max_height:
        width, height = width * max_height / height, max_height
    return max(2, round(width / 2) * 2), max(2, int(height) // 2 * 2)


def display_rotation(path):
    """How far a phone recording is turned (its first frame's display matrix; PyAV has no stream-level one)."""
    with opened(path) as source:
        stream = video_stream(source)
        frame = next(source.decode(stream), None) if stream is not None else None
        return round(frame.rotation) if frame is not None else 0


def video_stream(source):
    """The video stream, leaving out cover art (an MP3's or M4A's picture)."""
    return next((s for s in source.streams.video if not s.disposition & av.stream.Disposition.attached_pic), None)


def start_seconds(stream):
    return float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0


def stream_duration(source, stream):
    if stream is not None and stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return source.duration / av.time_base if source.duration else None


@contextmanager
def opened(path):
    try:
        with av.open(str(path), metadata_errors="ignore") as source:
            yield source
    except av.FFmpegError as error:
        log.info("%s could not be read: %s", path, error)
        raise ProcessingFailed("The file could not be processed: it is damaged or in a form we can't read.") from error


@contextmanager
def making(*paths):
    """Whatever stops the making of `paths` (a failure, a stop) removes what was written of them."""
    try:
        yield
    except BaseException:
        for path in paths:
            Path(path).unlink(missing_ok=True)
        raise


def _probe(path):
    with opened(path) as made:
        video, audio = video_stream(made), next(iter(made.streams.audio), None)
        return Output(path=str(path), duration_seconds=made.duration / av.time_base if made.duration else None,
                      width=video.codec_context.width if video is not None else None,
                      height=video.codec_context.height if video is not None else None,
                      video_codec=video.codec_context.name if video is not None else None,
                      audio_codec=audio.codec_context.name if audio is not None else None)
