"""Thumbnails: a representative (not black) video frame, a resized image, a PDF's first page."""
import av
import pypdfium2
from PIL import ImageOps, ImageStat

from .budgets import open_image, page_scale
from .probe import is_pdf

THUMBNAIL_BOX = (480, 480)
PDF_RENDER_BOX, PDF_RENDER_PIXELS = (480, 1920), 1_000_000  # a page's first screenful, however tall it claims to be
# Where in a video to look for a frame, as fractions of its duration: past intros and fades.
FRAME_POSITIONS = (0.1, 0.25, 0.5, 0.75, 0.03)
MAX_FRAMES_PER_SEEK = 90


def make_thumbnail(path, kind, duration_seconds=None):
    """A PIL image to use as the thumbnail, or None for kinds without one."""
    if kind == "video":
        image = representative_frame(path, duration_seconds)
    elif kind == "image":
        with open_image(path) as source:
            # JPEG decodes at a reduced size (draft); other formats are reduced as soon as they are loaded.
            source.thumbnail(THUMBNAIL_BOX, reducing_gap=2.0)
            image = ImageOps.exif_transpose(source).convert("RGB")
    elif kind == "document" and is_pdf(path):
        image = _pdf_first_page(path)
    else:
        return None
    if image is None:
        return None
    image.thumbnail(THUMBNAIL_BOX)
    return image


def save_thumbnail(image, target_path):
    image.save(target_path, "WEBP", quality=80, method=4)


def is_mostly_black(image):
    """Nearly black or nearly uniform (a fade, a title card of one colour)."""
    gray = image.convert("L").resize((64, 36))
    stats = ImageStat.Stat(gray)
    return stats.mean[0] < 18 or stats.stddev[0] < 6


def representative_frame(path, duration_seconds):
    """The first frame at FRAME_POSITIONS that is not black; the brightest seen otherwise."""
    best, best_mean = None, -1.0
    with av.open(str(path), metadata_errors="ignore") as container:
        stream = next((s for s in container.streams.video), None)
        if stream is None:
            return None
        stream.thread_type = "AUTO"
        positions = [duration_seconds * f for f in FRAME_POSITIONS] if duration_seconds else [0.0]
        for seconds in positions:
            frame = frame_at(container, stream, seconds)
            if frame is None:
                continue
            image = frame.to_image()
            if not is_mostly_black(image):
                return image
            mean = ImageStat.Stat(image.convert("L")).mean[0]
            if mean > best_mean:
                best, best_mean = image, mean
    return best


def frame_at(container, stream, seconds):
    """The first decoded frame at or after `seconds` (seeking to the keyframe before it)."""
    try:
        if seconds > 0 and stream.time_base:
            container.seek(int(seconds / stream.time_base), stream=stream, backward=True, any_frame=False)
        for count, frame in enumerate(container.decode(stream)):
            if frame.time is None or frame.time >= seconds or count >= MAX_FRAMES_PER_SEEK:
                return frame
    except (av.FFmpegError, StopIteration):
        return None
    return None


def _pdf_first_page(path):
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        if len(pdf) == 0:
            return None
        scale = page_scale(*pdf[0].get_size(), PDF_RENDER_BOX, PDF_RENDER_PIXELS)
        return pdf[0].render(scale=scale).to_pil().convert("RGB") if scale else None
    finally:
        pdf.close()
