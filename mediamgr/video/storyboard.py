"""A video's storyboard: thumbnails every few seconds in JPEG sprites with a WebVTT thumbnails track
pointing into them, which the preview's strip shows on hover. A tile is the keyframe at or before its
time: one seek and one decoded frame each, however long the video."""
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import webvtt
from PIL import Image

from .transforms import (ProcessingFailed, Watch, display_rotation, making, opened, start_seconds, stream_duration,
                         video_stream)

STORYBOARD_MAX_TILES, STORYBOARD_MIN_INTERVAL, TILES_PER_SPRITE = 200, 2.0, 100


@dataclass
class Storyboard:
    sprite_paths: list
    vtt: str  # cue payloads are "<sprite file name>#xywh=x,y,w,h"
    interval: float


def storyboard(src, out_dir, *, every=None, tile=(160, 90), columns=10, progress=None, should_stop=None):
    """Thumbnails every `every` seconds (by default as often as 200 tiles for the whole video allow, 2 s at
    least) in JPEG sprites of 100 tiles, with a WebVTT thumbnails track pointing into them."""
    watch = Watch(progress, should_stop)
    with opened(src) as source:
        stream = video_stream(source)
        if stream is None:
            raise ProcessingFailed("The file has no video to make a storyboard from.")
        duration = stream_duration(source, stream)
        if not duration:
            raise ProcessingFailed("The video's length could not be read.")
        every = every or max(STORYBOARD_MIN_INTERVAL, duration / STORYBOARD_MAX_TILES)
        times = [index * every for index in range(max(1, math.ceil(duration / every - 1e-9)))]
        pages = [times[first:first + TILES_PER_SPRITE] for first in range(0, len(times), TILES_PER_SPRITE)]
        paths = [Path(out_dir) / f"storyboard-{number:03d}.jpg" for number in range(1, len(pages) + 1)]
        rotation, width, height = display_rotation(src), stream.codec_context.width, stream.codec_context.height
        size = _fit((height, width) if rotation in (90, -90) else (width, height), tile)
        tiles, captions = _keyframe_tiles(source, stream, times, size, rotation, watch), []
        with making(*paths):
            for path, page in zip(paths, pages):  # one sprite in memory at a time
                captions += _write_sprite(path, itertools.islice(tiles, len(page)), page, size, columns, every,
                                          duration)
    watch.finish()
    return Storyboard([str(path) for path in paths], webvtt.WebVTT(captions=captions).content, every)


def _keyframe_tiles(source, stream, times, size, rotation, watch):
    """A tile (upright PIL image of `size`) for each of `times`, one at a time: the keyframe at or before it."""
    stream.codec_context.skip_frame = "NONKEY"
    stored = (size[1], size[0]) if rotation in (90, -90) else size
    origin, last_pts, tile = start_seconds(stream), None, None
    for index, seconds in enumerate(times):
        watch.tick(index, len(times))
        source.seek(int((origin + seconds) / stream.time_base), stream=stream, backward=True)
        frame = next(source.decode(stream), None)
        if frame is not None and frame.pts != last_pts:  # keyframes further apart than tiles repeat
            last_pts, tile = frame.pts, frame.reformat(*stored, format="rgb24").to_image().rotate(rotation, expand=True)
        yield tile


def _write_sprite(path, tiles, times, size, columns, every, duration):
    """Save `tiles` (those of `times`) as one JPEG grid; the WebVTT cues that point into it."""
    sprite = Image.new("RGB", (size[0] * min(columns, len(times)), size[1] * math.ceil(len(times) / columns)))
    captions = []
    for index, (tile, seconds) in enumerate(zip(tiles, times)):
        x, y = index % columns * size[0], index // columns * size[1]
        if tile is not None:
            sprite.paste(tile, (x, y))
        captions.append(webvtt.Caption(_clock(seconds), _clock(min(seconds + every, duration)),
                                       f"{path.name}#xywh={x},{y},{size[0]},{size[1]}"))
    sprite.save(path, "JPEG", quality=75)
    return captions


def _clock(seconds):
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def _fit(size, box):
    """`size` scaled to fit `box`, keeping its shape."""
    ratio = min(box[0] / size[0], box[1] / size[1])
    return max(1, round(size[0] * ratio)), max(1, round(size[1] * ratio))
