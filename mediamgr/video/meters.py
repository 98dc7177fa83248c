"""The meters the quality report reads a file with (video.quality): the sound's EBU R128 loudness,
true peak and silences (ebur128 and silencedetect in one audio graph), and the pictures' black
stretches, quantisers and rotation (keyframes first, then a closer look where something happened:
video.keyframes); and the one pass over a file's packets that feeds them."""
import bisect
import math
from dataclasses import dataclass

import av
from av.sidedata.sidedata import Type as SideDataType

from .keyframes import picture_of, stretches_to_look_at

SILENCE_FLOOR_DB = -50  # quieter than this is silence (a quiet room's hiss stays below it)
CURVE_FLOOR_LUFS = -70.0
# blackdetect: a pixel is dark below 10 % of the luma range, a picture is black when 99 % of it is dark
# (98 %, the filter's default, calls a dark slide with one short line of text black).
BLACK_FILTER_ARGS = "pix_th=0.10:pic_th=0.99"
BLACK_SAMPLE_SIZE = "128:72"  # blackdetect sees a nearest-neighbour sample; scaling is most of its cost
LOOK_EVERY = 0.2  # seconds between the pictures looked at: black stretches are placed to within this
HEAVY_QUANTISER = {"h264": 32}  # on keyframes: 35 on the frames between them
QUANTISER_SAMPLES = 16  # macroblocks read per decoded frame


class AnalysisStopped(Exception):
    """should_stop() asked the analysis to give up."""


@dataclass
class Loudness:
    integrated_lufs: float | None  # None: nothing above EBU R128's −70 LUFS gate (silence)
    true_peak_dbtp: float | None
    loudness_curve: list  # short-term LUFS, one per second, floored at −70


class LoudnessMeter:
    """ebur128 (loudness, true peak) and silencedetect in one audio graph; frames pushed in, numbers out."""

    def __init__(self, offset):
        self.offset, self.graph = offset, None
        self.levels = []  # (end time, short-term, momentary) every 100 ms, as ebur128 reports them
        self.integrated, self.peak, self.silence_start, self.silence_spans, self.end = None, None, None, [], 0.0

    def push(self, frame):
        if self.graph is None:
            self.graph = _graph(
                lambda graph: graph.add_abuffer(sample_rate=frame.sample_rate, format=frame.format.name,
                                                layout=frame.layout.name, time_base=frame.time_base),
                ("aresample", "48000"), ("ebur128", "metadata=1:peak=true"),
                ("silencedetect", f"noise={SILENCE_FLOOR_DB}dB:duration=0.1"), ("abuffersink", None))
        for out in _filtered(self.graph, frame):
            meta = out.metadata
            self.end = max(self.end, float(out.pts * out.time_base) + out.samples / out.sample_rate - self.offset)
            if "lavfi.r128.S" in meta:
                self.levels.append((self.end, float(meta["lavfi.r128.S"]), float(meta["lavfi.r128.M"])))
                self.integrated, self.peak = float(meta["lavfi.r128.I"]), float(meta["lavfi.r128.true_peak"])
            if "lavfi.silence_start" in meta:
                self.silence_start = float(meta["lavfi.silence_start"]) - self.offset
            if "lavfi.silence_end" in meta and self.silence_start is not None:
                self.silence_spans.append((self.silence_start, float(meta["lavfi.silence_end"]) - self.offset))
                self.silence_start = None

    def loudness(self):
        self._finish()
        integrated = self.integrated if self.integrated is not None and self.integrated > CURVE_FLOOR_LUFS else None
        peak = 20 * math.log10(self.peak) if self.peak else None
        return Loudness(rounded(integrated, 1), rounded(peak, 1), self._curve())

    def silences(self, min_stretch):
        self._finish()
        return [(round(start, 2), round(end, 2)) for start, end in self.silence_spans if end - start >= min_stretch]

    def _finish(self):
        if self.graph is not None:
            for out in _filtered(self.graph, None):
                self.end = max(self.end, float(out.pts * out.time_base) + out.samples / out.sample_rate - self.offset)
            self.graph = None
        if self.silence_start is not None:  # silent to the end: silencedetect says so only in its log
            self.silence_spans.append((self.silence_start, self.end))
            self.silence_start = None

    def _curve(self):
        """Short-term loudness (a 3 s window) for each second, read where the window is centred on that
        second; ebur128 has no short-term value before 3 s of audio, so shorter files take the momentary."""
        if not self.levels:
            return []
        ends = [end for end, _, _ in self.levels]
        short = ends[-1] >= 3.0
        curve = []
        for second in range(max(1, math.ceil(self.end - 0.1))):  # codecs pad the end by a few ms
            at = min(max(second + 2.0, 3.0) if short else second + 0.7, ends[-1])
            index = min(bisect.bisect_left(ends, at - 0.001), len(ends) - 1)
            _, short_term, momentary = self.levels[index]
            curve.append(round(max(CURVE_FLOOR_LUFS, short_term if short else momentary), 1))
        return curve


class PictureMeter:
    """What the pictures show, cheaply: in the file's one pass only its keyframes are decoded (a few a
    minute), which gives the H.264 quantisers and the display rotation; then the stretches between
    keyframes where the picture changed or is black (video.keyframes) are decoded again (reference frames,
    no loop filter, five pictures a second through blackdetect) to place black stretches. A black
    stretch between two keyframes that show the same picture (one shot that goes black and comes back
    within a keyframe interval) is not seen."""

    def __init__(self, stream, offset):
        self.stream, self.offset, self.rotation = stream, offset, 0
        self.keyframes, self.quantisers = [], []  # keyframes: (time, small picture)
        context = stream.codec_context
        context.thread_count, context.skip_frame = 1, "NONKEY"
        context.options = {"skip_loop_filter": "all",
                           **({"export_side_data": "venc_params"} if context.name in HEAVY_QUANTISER else {})}

    def push(self, frame):
        if frame.time is None:
            return
        if not self.keyframes:
            self.rotation = frame.rotation
        params = frame.side_data.get(SideDataType.VIDEO_ENC_PARAMS)
        if params is not None and params.nb_blocks:
            step = max(1, params.nb_blocks // QUANTISER_SAMPLES)
            blocks = range(step // 2, params.nb_blocks, step)
            self.quantisers.append(params.qp + sum(params.block_params(i).delta_qp for i in blocks) / len(blocks))
        self.keyframes.append((frame.time - self.offset, picture_of(frame)))

    def black_stretches(self, path, duration, min_stretch):
        """The black stretches at least `min_stretch` long, placed by a closer look around black keyframes."""
        regions = stretches_to_look_at(self.keyframes, duration)
        if not regions:
            return []
        edges = []
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = next(s for s in container.streams.video if s.index == self.stream.index)
            stream.codec_context.thread_count, stream.codec_context.skip_frame = 1, "NONREF"
            stream.codec_context.options = {"skip_loop_filter": "all"}
            for first, last in regions:
                edges += _black_edges(container, stream, first + self.offset, last + self.offset, self.offset)
        spans, start = [], None
        for at, starts in sorted(edges):
            if starts:
                start = at if start is None else start
            elif start is not None:
                spans.append((start, at))
                start = None
        if start is not None and duration:  # black to the end
            spans.append((start, duration))
        return [(round(start, 2), round(end, 2)) for start, end in _merged(spans) if end - start >= min_stretch]

    def mean_quantiser(self):
        return sum(self.quantisers) / len(self.quantisers) if self.quantisers else None


def _black_edges(container, stream, first, last, offset):
    """blackdetect's (time, starts) edges among five pictures a second from `first` to `last` (seconds
    of the file's clock; `last` None: to the end)."""
    graph, edges, next_look = None, [], -math.inf
    container.seek(int(first / stream.time_base), stream=stream, backward=True, any_frame=False)
    for frame in container.decode(stream):
        if frame.time is None or frame.time < first - 1e-6 or frame.time < next_look:
            continue
        next_look = frame.time + LOOK_EVERY
        if graph is None:
            graph = _graph(lambda g: g.add_buffer(width=frame.width, height=frame.height, format=frame.format,
                                                  time_base=stream.time_base),
                           ("scale", f"{BLACK_SAMPLE_SIZE}:flags=neighbor"), ("blackdetect", BLACK_FILTER_ARGS),
                           ("buffersink", None))
        edges += _read_edges(_filtered(graph, frame), offset)
        if last is not None and frame.time > last + LOOK_EVERY:
            break
    if graph is not None:
        edges += _read_edges(_filtered(graph, None), offset)
    return edges


def _read_edges(frames, offset):
    edges = []
    for out in frames:
        if "lavfi.black_start" in out.metadata:
            edges.append((float(out.metadata["lavfi.black_start"]) - offset, True))
        if "lavfi.black_end" in out.metadata:
            edges.append((float(out.metadata["lavfi.black_end"]) - offset, False))
    return edges


def _merged(spans):
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _graph(source, *filters):
    """A configured chain: `source(graph)` makes its buffer, then each (filter name, arguments)."""
    graph = av.filter.Graph()
    graph.threads = 1
    nodes = [source(graph)] + [graph.add(name, args) for name, args in filters]
    graph.link_nodes(*nodes).configure()
    return graph


def _filtered(graph, frame):
    """Push a frame (None: the end) and pull every frame the graph has ready."""
    graph.push(frame)
    while True:
        try:
            yield graph.pull()
        except (av.BlockingIOError, av.EOFError):
            return


def packets(container, streams, duration, should_stop, progress):
    """The streams' packets in file order; about a hundred times along (at most once a second of media)
    should_stop is polled and progress told how far the reading is."""
    every, next_check = max(1.0, (duration or 0) / 100), 0.0
    tick = {stream.index: float(stream.time_base) for stream in streams}  # Fraction arithmetic per packet is slow
    for packet in container.demux(*streams):
        at = packet.pts * tick[packet.stream_index] if packet.pts is not None else None
        if at is not None and at >= next_check:
            if should_stop and should_stop():
                raise AnalysisStopped()
            if progress and duration:
                progress(min(1.0, max(0.0, at / duration)))
            next_check = at + every
        yield packet


def media_duration(container):
    if container.duration:
        return container.duration / av.time_base
    stream = next(iter(container.streams), None)
    if stream is not None and stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def rounded(value, places):
    return None if value is None else round(value, places)
