"""The quality report of a video or audio file: what a student would notice (it won't play, it is too quiet or
too loud, the picture is black or the sound stops, it is portrait, small or heavily compressed) and a score.
Pure analysis with PyAV's decoders and libavfilter (ebur128, silencedetect, blackdetect): no database, no Flask.

Score rubric: a report starts at 100 and each finding deducts points by its severity, whatever its kind;
the result is clamped to 0..100:

    problem  −25   not_playable; quiet_audio below −26 LUFS; loud_audio above −9 LUFS; silence covering
                   90 % or more of the file (the microphone was off)
    warning  −10   no_audio; quiet_audio (−26 to −20 LUFS); loud_audio (−12 to −9 LUFS, or true peak above
                   −1 dBTP); black_video; silence; low_bitrate
    info      −2   portrait; low_resolution (short side under 480 px); low_frame_rate (under 20 fps)

Each kind gives at most one finding (a black_video finding lists all its stretches in `at`), so a clean
720p 30 fps H.264/AAC MP4 at −16..−14 LUFS scores 100 and a slides-only lecture at 10 fps scores 98.

Silence is a warning in audio-only files too: there, nothing else carries the listener through it.
low_bitrate is judged from the H.264 quantiser rather than bits per second, because a lecture of still
slides is perfect at 20 kb/s in 1080p while camera footage at that rate is a blur: the average quantiser
(sampled per macroblock of the keyframes) above 32 means visible blocking (keyframes are coded about
3 steps finer than the frames between them: x264's ipratio 1.4; 35 on those is the blocky mark). Other codecs give no
quantiser to PyAV and are not judged.
"""
import io
from dataclasses import asdict, dataclass, field, fields

import av
from PIL import Image, ImageDraw

from .meters import (HEAVY_QUANTISER, Loudness, LoudnessMeter, PictureMeter, media_duration, packets,
                     rounded)
from .playable import ALIASES, browser_plays, container_family

TARGET_LUFS = (-16.0, -14.0)
QUIET_LUFS, VERY_QUIET_LUFS = -20.0, -26.0
LOUD_LUFS, VERY_LOUD_LUFS = -12.0, -9.0
PEAK_LIMIT_DBTP = -1.0
MOSTLY_SILENT = 0.9
DEDUCTIONS = {"problem": 25, "warning": 10, "info": 2}
SEVERITY_ORDER = ("problem", "warning", "info")


@dataclass
class Finding:
    code: str
    severity: str  # "problem" | "warning" | "info"
    message: str  # what is wrong, with the numbers
    fix: str  # what to do about it
    action: str | None = None  # the processing job that fixes it: "normalise", "web_rendition"
    at: list = field(default_factory=list)  # (start, end) seconds where it happens


@dataclass
class QualityReport:
    duration_seconds: float | None = None
    width: int | None = None  # as displayed (a phone video rotated to portrait is narrower than tall)
    height: int | None = None
    frame_rate: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    container: str = ""
    video_bitrate: int | None = None  # bits/s, from the sizes of the stream's packets
    audio_bitrate: int | None = None
    video_quantiser: float | None = None  # H.264's average quantiser (higher: coarser); None for other codecs
    has_video: bool = False
    has_audio: bool = False
    playable: bool = False
    playable_reason: str = ""
    integrated_lufs: float | None = None
    true_peak_dbtp: float | None = None
    loudness_curve: list = field(default_factory=list)
    black_stretches: list = field(default_factory=list)
    silences: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    score: int = 100

    def to_json(self):
        return asdict(self)  # tuples become lists when stored as JSON; from_json turns them back

    @classmethod
    def from_json(cls, data):
        known = {f.name for f in fields(cls)} & set(data)
        report = cls(**{name: data[name] for name in known})
        report.black_stretches = [tuple(span) for span in report.black_stretches]
        report.silences = [tuple(span) for span in report.silences]
        report.findings = [Finding(**{**finding, "at": [tuple(span) for span in finding.get("at", [])]})
                           for finding in report.findings]
        return report


def analyse(path, *, min_stretch=2.0, should_stop=None, progress=None):
    """The quality report of the file at `path`, in one pass over it (and a closer look at the video
    around black keyframes). Decoding errors (av.FFmpegError) and
    ValueError come through as they are; AnalysisStopped when should_stop() returns True."""
    with av.open(str(path), metadata_errors="ignore") as container:
        video = next((s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic), None)
        audio = next(iter(container.streams.audio), None)
        if video is None and audio is None:
            raise ValueError("The file has no audio or video stream.")
        duration, offset = media_duration(container), (container.start_time or 0) / av.time_base
        picture = PictureMeter(video, offset) if video is not None else None
        meter = LoudnessMeter(offset) if audio is not None else None
        streams = [stream for stream in (video, audio) if stream is not None]
        packet_bytes = {stream.index: 0 for stream in streams}
        for packet in packets(container, streams, duration, should_stop, progress):
            packet_bytes[packet.stream_index] += packet.size
            for frame in packet.decode():
                (picture if video is not None and packet.stream_index == video.index else meter).push(frame)
        report = QualityReport(duration_seconds=duration, has_video=video is not None, has_audio=audio is not None)
        _describe_streams(report, container, video, audio, picture)
        if duration:
            report.video_bitrate = round(packet_bytes[video.index] * 8 / duration) if video is not None else None
            report.audio_bitrate = round(packet_bytes[audio.index] * 8 / duration) if audio is not None else None
        if picture is not None:
            report.black_stretches = picture.black_stretches(path, duration, min_stretch)
            report.video_quantiser = rounded(picture.mean_quantiser(), 1)
        if meter is not None:
            loudness = meter.loudness()
            report.integrated_lufs, report.true_peak_dbtp = loudness.integrated_lufs, loudness.true_peak_dbtp
            report.loudness_curve = loudness.loudness_curve
            report.silences = meter.silences(min_stretch)
        report.findings = findings_for(report)
        report.score = score(report.findings)
    if progress:
        progress(1.0)
    return report


def measure_loudness(path, *, should_stop=None, progress=None):
    """EBU R128 loudness of the file's first audio track (None fields when it has none)."""
    with av.open(str(path), metadata_errors="ignore") as container:
        audio = next(iter(container.streams.audio), None)
        if audio is None:
            return Loudness(None, None, [])
        meter = LoudnessMeter((container.start_time or 0) / av.time_base)
        for packet in packets(container, [audio], media_duration(container), should_stop, progress):
            for frame in packet.decode():
                meter.push(frame)
        return meter.loudness()


def findings_for(report):
    """What is wrong with the file the report describes, problems first."""
    found = []
    if not report.playable:
        found.append(Finding("not_playable", "problem", report.playable_reason or "Browsers can't play this file.",
                             "Make a web-playable copy", "web_rendition"))
    if report.has_video and not report.has_audio:
        found.append(Finding("no_audio", "warning", "The video has no sound track.",
                             "Check the recording had a microphone, or add narration"))
    found += _loudness_findings(report)
    if report.black_stretches:
        found.append(Finding("black_video", "warning", f"The picture is black {_where(report.black_stretches)}.",
                             "Trim or replace the black part", at=report.black_stretches))
    if report.silences:
        found.append(_silence_finding(report))
    if report.has_video and report.width and report.height:
        found += _picture_findings(report)
    return sorted(found, key=lambda finding: SEVERITY_ORDER.index(finding.severity))


def score(findings):
    return max(0, min(100, 100 - sum(DEDUCTIONS[finding.severity] for finding in findings)))


def loudness_sparkline(report, size=(480, 64)):
    """A PNG of the per-second loudness with the −16..−14 LUFS target band, black stretches shaded grey and
    silences pink; None for a file without audio."""
    if not report.has_audio or not report.loudness_curve:
        return None
    width, height = size
    seconds = max(report.duration_seconds or 0, len(report.loudness_curve))
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)

    def y(lufs):  # −60 LUFS at the bottom, 0 at the top
        return round((min(0.0, max(-60.0, lufs)) / -60.0) * (height - 1))

    def x(second):
        return round(second / seconds * (width - 1))

    for spans, colour in ((report.silences, (250, 215, 220)), (report.black_stretches, (200, 200, 200))):
        for start, end in spans:
            draw.rectangle((x(start), 0, x(end), height - 1), fill=colour)
    draw.rectangle((0, y(TARGET_LUFS[1]), width - 1, y(TARGET_LUFS[0])), fill=(190, 230, 195))
    points = [(x(second + 0.5), y(lufs)) for second, lufs in enumerate(report.loudness_curve)]
    draw.line(points if len(points) > 1 else points * 2, fill=(30, 60, 120), width=2)
    output = io.BytesIO()
    image.save(output, "PNG")
    return output.getvalue()


def _describe_streams(report, container, video, audio, picture):
    report.video_codec = ALIASES.get(video.codec_context.name, video.codec_context.name) if video is not None else None
    report.audio_codec = ALIASES.get(audio.codec_context.name, audio.codec_context.name) if audio is not None else None
    report.container = container_family(container.format.name, report.video_codec, report.audio_codec)
    playability = browser_plays(container.format.name, report.video_codec, report.audio_codec)
    report.playable, report.playable_reason = playability.plays, playability.reason
    if video is not None:
        width, height = video.codec_context.width, video.codec_context.height
        report.width, report.height = (height, width) if abs(picture.rotation) == 90 else (width, height)
        rate = video.average_rate or video.guessed_rate
        report.frame_rate = round(float(rate), 3) if rate else None


def _loudness_findings(report):
    lufs, peak = report.integrated_lufs, report.true_peak_dbtp
    aim = f"aim for {_signed(TARGET_LUFS[0])} to {_signed(TARGET_LUFS[1])} LUFS"
    if lufs is not None and lufs < QUIET_LUFS:
        return [Finding("quiet_audio", "problem" if lufs < VERY_QUIET_LUFS else "warning",
                        f"Audio is quiet ({_signed(lufs)} LUFS); {aim}.", "Normalise loudness", "normalise")]
    if lufs is not None and lufs > LOUD_LUFS:
        return [Finding("loud_audio", "problem" if lufs > VERY_LOUD_LUFS else "warning",
                        f"Audio is loud ({_signed(lufs)} LUFS); {aim}.", "Normalise loudness", "normalise")]
    if peak is not None and peak > PEAK_LIMIT_DBTP:
        return [Finding("loud_audio", "warning", f"Audio peaks reach {_signed(peak, 1)} dBTP and may distort; keep "
                        f"them below {_signed(PEAK_LIMIT_DBTP)} dBTP.", "Normalise loudness", "normalise")]
    return []


def _silence_finding(report):
    silent = sum(end - start for start, end in report.silences)
    if report.duration_seconds and silent >= MOSTLY_SILENT * report.duration_seconds:
        return Finding("silence", "problem", f"The sound is silent almost throughout ({silent:.0f} of "
                       f"{report.duration_seconds:.0f} s).", "Check the microphone and upload a recording with sound",
                       at=report.silences)
    return Finding("silence", "warning", f"There is no sound {_where(report.silences)}.",
                   "Trim the silent part, or check the microphone", at=report.silences)


def _picture_findings(report):
    width, height, found = report.width, report.height, []
    if height > width:
        found.append(Finding("portrait", "info", f"The video is portrait ({width}×{height}); on a laptop it shows as "
                             "a narrow strip with small text.", "Record lectures in landscape"))
    heavy = HEAVY_QUANTISER.get(report.video_codec)
    if heavy is not None and report.video_quantiser is not None and report.video_quantiser > heavy:
        rate = f" at {report.video_bitrate // 1000} kb/s" if report.video_bitrate else ""
        found.append(Finding("low_bitrate", "warning", f"The video is heavily compressed (quantiser {report.video_quantiser:.0f} "
                             f"on average{rate}); pictures will look blocky.", "Upload a higher-quality export"))
    if min(width, height) < 480:
        found.append(Finding("low_resolution", "info", f"The video is {width}×{height}; slide text may be hard to read "
                             "(480p or more is best).", "Upload a higher-resolution version"))
    if report.frame_rate and report.frame_rate < 20:
        found.append(Finding("low_frame_rate", "info", f"The video runs at {report.frame_rate:g} fps; movement looks "
                             "jerky below 20 fps.", "Fine for slides; record demonstrations at 25–30 fps"))
    return found


def _where(spans):
    """"for 3 s (0:04–0:07)", or "for 8 s in all (0:04–0:07, 1:10–1:15)", listing at most three."""
    total = sum(end - start for start, end in spans)
    listed = ", ".join(f"{_clock(start)}–{_clock(end)}" for start, end in spans[:3])
    more = f" and {len(spans) - 3} more" if len(spans) > 3 else ""
    return f"for {total:.0f} s{' in all' if len(spans) > 1 else ''} ({listed}{more})"


def _clock(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02}:{seconds:02}" if minutes >= 60 else f"{minutes}:{seconds:02}"


def _signed(value, places=0):
    return f"{value:.{places}f}".replace("-", "−")  # a real minus sign in text for people
