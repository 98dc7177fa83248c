"""Whether the browsers students use (Chrome, Firefox, Safari, Edge; desktop and phone) play a file as
it is: the one rule the quality report and "Make web-playable" share. What all of them play: MP4/MOV
with H.264 (or AV1/VP9 in MP4 outside Safari: not counted), WebM with VP8/VP9 and Opus/Vorbis, and
for audio MP3, AAC (MP4/M4A), WAV, FLAC and Ogg (Opus/Vorbis). HEVC plays in Safari and only on some
Chrome machines, ProRes in none, MKV/AVI/WMV/FLV/MPEG-TS in no browser's <video>."""
from dataclasses import dataclass

MP4_VIDEO = {"h264"}
WEBM_VIDEO = {"vp8", "vp9"}
MP4_AUDIO = {"aac", "mp3"}
WEBM_AUDIO = {"opus", "vorbis"}
AUDIO_ONLY = {"mp3": {"mp3"}, "mp4": {"aac", "mp3", "flac", "opus"}, "wav": {"pcm_s16le", "pcm_s24le", "pcm_u8", "pcm_f32le"},
              "flac": {"flac"}, "ogg": {"opus", "vorbis", "flac"}, "webm": WEBM_AUDIO}
CODEC_NAMES = {"hevc": "HEVC (H.265)", "prores": "ProRes", "mpeg4": "MPEG-4 Part 2", "mpeg2video": "MPEG-2",
               "wmv3": "Windows Media Video", "h264": "H.264", "vp8": "VP8", "vp9": "VP9", "av1": "AV1",
               "aac": "AAC", "mp3": "MP3", "opus": "Opus", "vorbis": "Vorbis", "ac3": "Dolby Digital (AC-3)",
               "eac3": "Dolby Digital Plus", "wmav2": "Windows Media Audio", "pcm_s16le": "PCM", "flac": "FLAC",
               "alac": "Apple Lossless", "amr_nb": "AMR"}
# Decoder names PyAV reports for a codec (the probe stores what the decoder is called).
ALIASES = {"mp3float": "mp3", "mp2float": "mp2", "libopus": "opus", "libvorbis": "vorbis", "libdav1d": "av1",
           "libvpx": "vp8", "libvpx-vp9": "vp9"}
FORMAT_NAMES = {"matroska": "MKV", "avi": "AVI", "asf": "WMV", "flv": "FLV", "mpegts": "MPEG-TS", "mov": "MOV",
                "mp4": "MP4", "webm": "WebM"}


@dataclass(frozen=True)
class Playability:
    plays: bool
    reason: str = ""  # why not, in words for the instructor


def container_family(format_name, video_codec=None, audio_codec=None):
    """"mp4", "webm", "matroska", "avi", … from PyAV's container.format.name ("mov,mp4,m4a,3gp,3g2,mj2",
    "matroska,webm", …): a Matroska file is WebM only when its codecs are WebM's."""
    names = set((format_name or "").split(","))
    if "mp4" in names or "mov" in names:
        return "mp4"
    if "matroska" in names or "webm" in names:
        webm = (video_codec in WEBM_VIDEO or video_codec is None) and (audio_codec in WEBM_AUDIO or audio_codec is None)
        return "webm" if webm and (video_codec or audio_codec) else "matroska"
    for family in ("wav", "mp3", "flac", "ogg", "avi", "asf", "flv", "mpegts"):
        if family in names:
            return family
    return next(iter(sorted(names)), "")


def codec_name(codec):
    return CODEC_NAMES.get(codec or "", (codec or "unknown").upper())


def browser_plays(format_name, video_codec, audio_codec):
    """Playability of a file with these streams (codec names as PyAV gives them; None: no such stream)."""
    video_codec, audio_codec = ALIASES.get(video_codec, video_codec), ALIASES.get(audio_codec, audio_codec)
    family = container_family(format_name, video_codec, audio_codec)
    if video_codec is None:
        if audio_codec in AUDIO_ONLY.get(family, set()):
            return Playability(True)
        return Playability(False, f"Browsers can't play {codec_name(audio_codec)} audio"
                                  f"{' in ' + FORMAT_NAMES.get(family, family.upper()) if family else ''}.")
    if family not in ("mp4", "webm"):
        return Playability(False, f"Browsers can't play {FORMAT_NAMES.get(family, family.upper() or 'this')} files.")
    videos, audios = (MP4_VIDEO, MP4_AUDIO) if family == "mp4" else (WEBM_VIDEO, WEBM_AUDIO)
    if video_codec not in videos:
        return Playability(False, f"{codec_name(video_codec)} video doesn't play in every browser.")
    if audio_codec is not None and audio_codec not in audios:
        return Playability(False, f"{codec_name(audio_codec)} audio doesn't play in every browser.")
    return Playability(True)
