"""What one media job may spend, so that a decompression bomb fails its own file and nothing else:
the pixels an image may declare (checked from its header, before anything is decoded), the pixels a
PDF page is rendered at (whatever size the page claims), and the memory of the work horse."""
import logging
import resource

from flask import current_app
from PIL import Image

log = logging.getLogger(__name__)
MiB = 1024**2


class OverBudget(Exception):
    """The file needs more than a job may spend; the message is for the user. Retrying cannot help."""


def too_large_for_memory():
    limit = current_app.config["JOB_MEMORY_LIMIT_BYTES"]
    return OverBudget(f"The file needs more memory to process than a file may use ({limit // MiB:,} MiB). "
                      "A smaller or simpler version of it will work.")


def open_image(path):
    """The image at `path`, opened (its header read, nothing decoded) and checked: OverBudget when it
    declares more pixels than MAX_IMAGE_PIXELS. Use as a context manager, like Image.open."""
    image = Image.open(path)
    try:
        check_image_pixels(*image.size)
    except OverBudget:
        image.close()
        raise
    return image


# This module's check (with a message for the user) replaces Pillow's guard, which would refuse
# some sizes at open with a message for developers and only warn about others.
Image.MAX_IMAGE_PIXELS = None


def check_image_pixels(width, height):
    """OverBudget when an image declares more pixels than MAX_IMAGE_PIXELS."""
    limit = current_app.config["MAX_IMAGE_PIXELS"]
    if width * height > limit:
        raise OverBudget(f"The image is too large to process: {width:,} × {height:,} pixels "
                         f"({width * height / 1e6:,.0f} megapixels); the limit is {limit / 1e6:,.0f} megapixels.")


def page_scale(width_pt, height_pt, box, max_pixels):
    """The render scale for a PDF page of the given size in points: fits `box` (pixels) and at most
    `max_pixels` in all, however tall or wide the page claims to be; None for an empty page."""
    if width_pt <= 0 or height_pt <= 0:
        return None
    scale = min(box[0] / width_pt, box[1] / height_pt, 4.0)
    pixels = width_pt * height_pt * scale * scale
    if pixels > max_pixels:
        scale *= (max_pixels / pixels) ** 0.5
    return scale


def limit_memory(limit_bytes):
    """Cap this process's address space (RLIMIT_AS): past it an allocation fails (MemoryError in
    Python) instead of the machine swapping or the kernel's OOM killer picking a process."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit_bytes = min(limit_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, hard))
