"""The big file that the ingest and transfer benchmarks move: a real (tiny) WebM video followed by
random padding, so the upload's type sniffing accepts it and nothing compresses it."""
import io
import os
from fractions import Fraction

import av
from PIL import Image

MiB = 1024 * 1024
PAYLOAD_NAME = "Week 12 - Lecture 3 - Sorting algorithms.webm"


def _tiny_webm():
    """One second of a small moving gradient, VP8 in WebM (what a browser recording looks like)."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="webm") as output:
        stream = output.add_stream("libvpx", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.time_base = Fraction(1, 10)
        for index in range(10):
            image = Image.linear_gradient("L").resize((160, 96)).point(lambda value, i=index: (value + 20 * i) % 256)
            frame = av.VideoFrame.from_image(image.convert("RGB"))
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode())
    return buffer.getvalue()


def make_payload(folder, size_mib):
    """Write the file once (about 2-4 s for 1 GiB); returns its path."""
    path = folder / PAYLOAD_NAME
    head = _tiny_webm()
    remaining = size_mib * MiB - len(head)
    with open(path, "wb") as out:
        out.write(head)
        while remaining > 0:
            block = os.urandom(min(16 * MiB, remaining))
            out.write(block)
            remaining -= len(block)
    return path


def size_text(size):
    return f"{size / 2**30:g} GiB" if size >= 2**30 else f"{size / MiB:,.0f} MiB"
