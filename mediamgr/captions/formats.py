"""Caption files in, WebVTT out: a WebVTT or SRT file is checked, its cues read by webvtt-py, and an
SRT file converted to WebVTT. A file that is not right is refused with the line where it goes wrong
and what is wrong there; webvtt-py passes over a cue it cannot read without a word, so each block of
lines is put to its own test (webvtt-py's) first, where its line number is still known."""
import io
import re
from dataclasses import dataclass

import webvtt
from webvtt.srt import SRTCueBlock
from webvtt.vtt import WebVTTCueBlock

MAX_CAPTION_BYTES = 2 * 1024 * 1024  # some 20 hours of lecture; a larger file is not a caption file
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_VTT_BLOCKS_WITHOUT_TIMING = ("NOTE", "STYLE", "REGION")


class CaptionError(ValueError):
    """A file refused: `line` (1-based, or None for the file as a whole) and what is wrong."""

    def __init__(self, message, line=None):
        super().__init__(f"Line {line}: {message}" if line else message)
        self.line = line


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str


@dataclass(frozen=True)
class Captions:
    vtt: str  # the WebVTT document, as stored and served
    cues: tuple
    converted_from: str  # "WebVTT" or "SRT"


def read_captions(data):
    """The captions in `data` (bytes of a .vtt or .srt file), or CaptionError."""
    if len(data) > MAX_CAPTION_BYTES:
        raise CaptionError(f"The file is {len(data) / 1_048_576:.1f} MB; a caption file can be at most "
                           f"{MAX_CAPTION_BYTES // 1_048_576} MB.")
    text = _decoded(data)
    lines = _LINE_BREAK.split(text)
    if not text.strip():
        raise CaptionError("The file is empty.")
    first_line, first_block = next(_blocks(lines))
    if lines[0].startswith("WEBVTT"):
        kind = "WebVTT"
        _check_vtt(lines)
    elif first_block[0].strip().isdigit():
        kind = "SRT"
        _check_srt(lines)
    else:
        raise CaptionError("this is neither WebVTT (its first line is “WEBVTT”) nor SRT (its first line "
                           "is the number of the first cue, 1).", line=first_line)
    parsed = webvtt.from_buffer(io.StringIO(text), format="vtt" if kind == "WebVTT" else "srt")
    cues = tuple(Cue(caption.start_time.in_milliseconds() / 1000, caption.end_time.in_milliseconds() / 1000,
                     caption.text) for caption in parsed.captions)
    if not cues:
        raise CaptionError("The file has no cues (a cue is a timing line such as "
                           "“00:00:01.000 --> 00:00:04.000” followed by its text).")
    return Captions(vtt=parsed.content, cues=cues, converted_from=kind)


def _decoded(data):
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CaptionError("this is not UTF-8 text. Save the file as UTF-8 and upload it again.", line=line) from None


def _blocks(lines):
    """(first line number, lines) of each run of non-blank lines."""
    block, start = [], None
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if not block:
                start = number
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _check_vtt(lines):
    header, *blocks = list(_blocks(lines))
    if header[1][0] != "WEBVTT" and not header[1][0][6:7].isspace():
        raise CaptionError("the first line must be “WEBVTT” (optionally followed by a space and a title).", line=1)
    if any("-->" in line for line in header[1]):
        raise CaptionError("leave a blank line between “WEBVTT” and the first cue.", line=header[0] + 1)
    for start, block in blocks:
        if block[0].split(" ", 1)[0] in _VTT_BLOCKS_WITHOUT_TIMING:
            continue
        timing = 1 if len(block) > 1 and _meant_as_timing(block[1]) and not _meant_as_timing(block[0]) else 0
        if not _meant_as_timing(block[timing]):
            raise CaptionError(f"“{_shown(block[0])}” is not part of a cue: a cue starts with a timing line "
                               "such as “00:00:01.000 --> 00:00:04.000”.", line=start)
        if not WebVTTCueBlock.is_valid(block):
            raise CaptionError(f"“{_shown(block[timing])}” is not a cue timing: write it as "
                               "“HH:MM:SS.mmm --> HH:MM:SS.mmm” (hours may be left out).", line=start + timing)
        _check_times(block[timing], start + timing)


_TIMING_LIKE = re.compile(r"\s*(\d+:)?\d{1,2}:\d{1,2}[.,]\d+\s*-")


def _meant_as_timing(line):
    """A cue timing, or a line written as one (a time and an arrow of some sort)."""
    return "-->" in line or bool(_TIMING_LIKE.match(line))


def _check_srt(lines):
    for start, block in _blocks(lines):
        if not block[0].strip().isdigit():
            raise CaptionError(f"expected the number of a cue, found “{_shown(block[0])}”. Each cue is its number, "
                               "a timing line and its text, with a blank line after it.", line=start)
        if not SRTCueBlock.is_valid(block):
            found = block[1] if len(block) > 1 else "nothing"
            raise CaptionError(f"“{_shown(found)}” is not a cue timing: write it as "
                               "“HH:MM:SS,mmm --> HH:MM:SS,mmm”.", line=start + 1)
        _check_times(block[1], start + 1)


_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{1,2})[.,](\d{1,3})")


def _check_times(timing_line, line):
    """The cue ends after it starts (cues may overlap, so no order between cues is required)."""
    start, end = (_seconds(part) for part in timing_line.split("-->", 1))
    if end <= start:
        raise CaptionError(f"the cue ends ({vtt_clock(end)}) before it starts ({vtt_clock(start)}).", line=line)


def _seconds(text):
    found = _TIME.search(text)
    hours, minutes, seconds, fraction = found.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(fraction.ljust(3, "0")) / 1000


def vtt_clock(seconds):
    """A time as WebVTT writes it: HH:MM:SS.mmm."""
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


_TYPED_TIME = re.compile(r"^(?:(?:(\d+):)?(\d{1,2}):)?(\d+(?:[.,]\d{1,3})?)$")


def parse_cue_time(text):
    """Seconds from a time as a person types it (the cue editor, a chapter marker, a trim): m:ss.mmm,
    h:mm:ss.mmm or seconds (1:02.5, 62.5)."""
    found = _TYPED_TIME.match((text or "").strip())
    if not found:
        raise CaptionError(f"“{_shown(text or '')}” is not a time: write it as m:ss.mmm (1:02.500) or in seconds (62.5).")
    hours, minutes, seconds = found.groups()
    if minutes is not None and float(seconds.replace(",", ".")) >= 60:
        raise CaptionError(f"“{text.strip()}” has more than 59 seconds after its minutes.")
    if hours is not None and int(minutes) >= 60:
        raise CaptionError(f"“{text.strip()}” has more than 59 minutes after its hours.")
    return round(int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds.replace(",", ".")), 3)


def _shown(line, limit=60):
    line = line.strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def cue_clock(seconds):
    """A cue time as the cue editor shows it: m:ss.mmm, or h:mm:ss.mmm from an hour on."""
    whole = int(seconds)
    millis = round((seconds - whole) * 1000)
    if whole >= 3600:
        return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}.{millis:03d}"
    return f"{whole // 60}:{whole % 60:02d}.{millis:03d}"
