"""Lecture-like media with known facts, encoded on the spot with PyAV: slides that change at known
times (scene cuts), black stretches, silences and a tone at a known level. The video features'
tests measure their detectors and jobs against these facts."""
import array
import math
from dataclasses import dataclass
from fractions import Fraction

import av
from PIL import Image, ImageDraw

# Distinct slides: a background and a block in a different place and colour for each.
PALETTE = [(245, 245, 240), (30, 60, 120), (200, 80, 40), (40, 140, 90), (90, 40, 130), (230, 200, 60),
           (20, 20, 60), (160, 160, 160), (120, 20, 40), (60, 180, 200)]


@dataclass
class Segment:
    """`seconds` of one slide (`slide` None: black), with a tone at `level_db` dBFS peak (None: silence)."""
    seconds: float
    slide: int | None = 0
    level_db: float | None = -20.0


def slide_image(number, size):
    width, height = size
    image = Image.new("RGB", size, PALETTE[number % len(PALETTE)])
    draw = ImageDraw.Draw(image)
    ink = PALETTE[(number + 5) % len(PALETTE)]
    left = (number * 37) % max(1, width // 2)
    draw.rectangle((left, height // 6, left + width // 3, height // 6 + height // 3), fill=ink)
    for line in range(3):  # "text" lines
        top = height * 2 // 3 + line * height // 12
        draw.rectangle((width // 10, top, width // 10 + (width // 2) * (line + number % 3 + 1) // 4, top + height // 30),
                       fill=ink)
    return image


def cut_times(segments):
    """When each slide change happens (the start of every segment after the first, where the picture changes)."""
    times, at = [], 0.0
    for previous, segment in zip(segments, segments[1:]):
        at += previous.seconds
        if segment.slide != previous.slide:
            times.append(at)
    return times


def precision_recall(found, truth, tolerance=0.5):
    """How many found times match a true one within `tolerance` (each true one matched once)."""
    unmatched = list(truth)
    hits = 0
    for at in found:
        match = next((t for t in unmatched if abs(t - at) <= tolerance), None)
        if match is not None:
            unmatched.remove(match)
            hits += 1
    return (hits / len(found) if found else 1.0), (hits / len(truth) if truth else 1.0)


def lecture(path, segments, fps=10, size=(320, 180), video_codec="libx264", audio_codec="aac", rate=48000,
            container=None, audio=True, pix_fmt="yuv420p"):
    """Write a lecture of `segments` to `path` (its container from the extension unless given)."""
    with av.open(str(path), mode="w", format=container) as output:
        video = output.add_stream(video_codec, rate=fps)
        video.width, video.height = size
        video.pix_fmt = pix_fmt
        video.time_base = Fraction(1, fps)
        sound = None
        if audio:
            sound = output.add_stream(audio_codec, rate=rate)
            sound.layout = "mono"
        black = Image.new("RGB", size, (0, 0, 0))
        index = 0
        samples_done = 0
        for segment in segments:
            frames = round(segment.seconds * fps)
            picture = black if segment.slide is None else slide_image(segment.slide, size)
            for _ in range(frames):
                frame = av.VideoFrame.from_image(picture)
                frame.pts = index
                index += 1
                output.mux(video.encode(frame))
            if sound is not None:
                samples_done = _write_tone(output, sound, segment, rate, samples_done)
        output.mux(video.encode())
        if sound is not None:
            output.mux(sound.encode())
    return path


def audio_file(path, segments, rate=48000, codec=None, container=None):
    """An audio-only file of `segments` (their slides are ignored)."""
    with av.open(str(path), mode="w", format=container) as output:
        codec = codec or {"wav": "pcm_s16le", "mp3": "libmp3lame", "m4a": "aac", "ogg": "libopus"}[str(path).rsplit(".", 1)[1]]
        sound = output.add_stream(codec, rate=rate)
        sound.layout = "mono"
        done = 0
        for segment in segments:
            done = _write_tone(output, sound, segment, rate, done)
        output.mux(sound.encode())
    return path


def _write_tone(output, stream, segment, rate, start, frequency=440.0, chunk=1024):
    """A sine at the segment's level (or silence), in frames of `chunk` samples; returns the samples written."""
    total = round(segment.seconds * rate)
    amplitude = 0 if segment.level_db is None else 32767 * 10 ** (segment.level_db / 20)
    written = 0
    while written < total:
        count = min(chunk, total - written)
        samples = array.array("h", (int(amplitude * math.sin(2 * math.pi * frequency * (start + written + i) / rate))
                                    for i in range(count)))
        frame = av.AudioFrame(format="s16", layout="mono", samples=count)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate = rate
        frame.pts = start + written
        frame.time_base = Fraction(1, rate)
        output.mux(stream.encode(frame))
        written += count
    return start + written
