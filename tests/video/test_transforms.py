"""Processing a lecture into new files: each transform's output is opened with PyAV and compared with what
media_lab put in (slides at known times, tones at known levels)."""
import array
import io
import re
import struct
from fractions import Fraction

import av
import pytest
import webvtt
from PIL import Image, ImageChops, ImageStat

import media_lab
from media_lab import Segment
from mediamgr.video.playable import browser_plays
from mediamgr.video.quality import measure_loudness
from mediamgr.video.storyboard import storyboard
from mediamgr.video.transforms import (ProcessingFailed, ProcessingStopped, extract_audio, normalise_loudness,
                                       output_suffix, trim, watermark, web_rendition)

SIZE = (320, 180)
# Slides 0, 1, 2 for 2 s each; the tone starts with slide 1 (so picture and sound change together at 2.0 s).
LECTURE = [Segment(2, 0, None), Segment(2, 1, -20), Segment(2, 2, -20)]


@pytest.fixture(scope="module")
def lecture(tmp_path_factory):
    return media_lab.lecture(tmp_path_factory.mktemp("lab") / "lecture.mp4", LECTURE, size=SIZE)


@pytest.fixture(scope="module")
def keyframes_only(tmp_path_factory):
    """The lecture in Motion JPEG: every frame is a keyframe, so a seek lands right at the time asked."""
    return media_lab.lecture(tmp_path_factory.mktemp("lab") / "lecture.mkv", LECTURE, size=SIZE, video_codec="mjpeg",
                             pix_fmt="yuvj420p")


def top_level_boxes(path):
    """The MP4's top-level box types in file order (moov before mdat: the browser can start playing at once)."""
    boxes, data = [], open(path, "rb").read()
    position = 0
    while position < len(data):
        size, kind = struct.unpack(">I4s", data[position:position + 8])
        if size == 1:
            size = struct.unpack(">Q", data[position + 8:position + 16])[0]
        boxes.append(kind.decode())
        position += size or len(data)
    return boxes


def frames(path):
    with av.open(str(path)) as container:
        return [(frame.time, frame.to_image()) for frame in container.decode(video=0)]


def looks_like(image, slide_number):
    """`image` shows the slide (as drawn at the lectures' size, then scaled to the image's)."""
    expected = media_lab.slide_image(slide_number, SIZE).resize(image.size)
    return ImageStat.Stat(ImageChops.difference(image.convert("RGB"), expected)).mean[0] < 8


def sound_starts_at(path, threshold=1000):
    """When the audio first rises above `threshold` (of 32767)."""
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono")
        for frame in container.decode(audio=0):
            for mono in resampler.resample(frame):
                samples = array.array("h", bytes(mono.planes[0])[:mono.samples * 2])
                loud = next((index for index, sample in enumerate(samples) if abs(sample) > threshold), None)
                if loud is not None:
                    return mono.time + loud / mono.sample_rate
    return None


def test_a_hevc_opus_mkv_becomes_an_mp4_every_browser_plays(tmp_path):
    source = media_lab.lecture(tmp_path / "lecture.mkv", LECTURE, video_codec="libx265", audio_codec="libopus")
    reported = []
    made = web_rendition(source, tmp_path / "web.mp4", progress=reported.append)
    with av.open(made.path) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        facts = (container.format.name, video.codec_context.name, video.codec_context.profile, video.format.name,
                 audio.codec_context.name, audio.codec_context.layout.name)
        assert browser_plays(container.format.name, video.codec_context.name, audio.codec_context.name).plays
    assert facts == ("mov,mp4,m4a,3gp,3g2,mj2", "h264", "High", "yuv420p", "aac", "mono")
    assert top_level_boxes(made.path).index("moov") < top_level_boxes(made.path).index("mdat")
    assert (made.width, made.height, made.video_codec, made.audio_codec) == (320, 180, "h264", "aac")
    assert made.duration_seconds == pytest.approx(6.0, abs=0.1)
    assert reported[-1] == 1.0 and all(0 <= fraction <= 1 for fraction in reported)


def test_a_web_rendition_is_no_taller_than_asked_keeping_its_shape(lecture, tmp_path):
    made = web_rendition(lecture, tmp_path / "small.mp4", max_height=100)
    assert (made.width, made.height) == (178, 100)  # 320 × 100/180 = 177.8, made even


def test_a_variable_frame_rate_keeps_its_timestamps(tmp_path):
    shown_at = [0, 100, 150, 400, 1000, 1033, 1066, 2500, 2600, 4000]  # milliseconds
    source = tmp_path / "screen-recording.mkv"
    with av.open(str(source), "w") as output:
        stream = output.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 90, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for number, milliseconds in enumerate(shown_at):
            frame = av.VideoFrame.from_image(media_lab.slide_image(number, (160, 90)))
            frame.pts, frame.time_base = milliseconds, Fraction(1, 1000)
            output.mux(stream.encode(frame))
        output.mux(stream.encode())
    made = web_rendition(source, tmp_path / "web.mp4")
    assert [round(time, 3) for time, _ in frames(made.path)] == [ms / 1000 for ms in shown_at]


def phone_recording(path):
    """Slide 1 stored landscape, to be shown turned a quarter counter-clockwise (as a phone held upright records)."""
    with av.open(str(path), "w") as output:
        stream = output.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.set_display_rotation(90)
        for index in range(5):
            frame = av.VideoFrame.from_image(media_lab.slide_image(1, SIZE))
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode())
    return path


def test_a_phone_recording_is_stood_upright(tmp_path):
    source = phone_recording(tmp_path / "phone.mp4")
    made = web_rendition(source, tmp_path / "web.mp4")
    board = storyboard(source, tmp_path, tile=(160, 90))
    upright = media_lab.slide_image(1, SIZE).rotate(90, expand=True)
    (_, first), *_ = frames(made.path)
    assert (made.width, made.height) == (180, 320)
    assert ImageStat.Stat(ImageChops.difference(first.convert("RGB"), upright)).mean[0] < 8
    with Image.open(board.sprite_paths[0]) as sprite:
        assert sprite.size == (51, 90)  # 180×320 made to fit 160×90
        assert ImageStat.Stat(ImageChops.difference(sprite.convert("RGB"), upright.resize((51, 90)))).mean[0] < 12


@pytest.mark.parametrize("source", ["lecture", "keyframes_only"])
@pytest.mark.parametrize("start, first_slide", [(2.0, 1), (1.95, 0)])  # 1.95: slide 0's last frame is on screen
def test_a_trim_starts_on_the_frame_shown_at_its_start_and_keeps_sound_in_sync(request, tmp_path, source, start,
                                                                                first_slide):
    made = trim(request.getfixturevalue(source), tmp_path / "part.mp4", start, start + 3.0)
    shown = frames(made.path)
    assert made.duration_seconds == pytest.approx(3.0, abs=0.1)  # within a frame (10 fps)
    assert shown[0][0] == 0.0 and looks_like(shown[0][1], first_slide)
    slide_change = next(time for time, image in shown if looks_like(image, 1))
    assert sound_starts_at(made.path) == pytest.approx(slide_change, abs=0.05)
    assert top_level_boxes(made.path).index("moov") < top_level_boxes(made.path).index("mdat")


def test_a_trim_of_audio_alone_is_an_m4a(tmp_path):
    source = media_lab.audio_file(tmp_path / "talk.wav", [Segment(1, level_db=None), Segment(3, level_db=-20)])
    assert output_suffix(source) == ".m4a"
    made = trim(source, tmp_path / "part.m4a", 0.5, 2.0)
    assert (made.video_codec, made.audio_codec) == (None, "aac")
    assert made.duration_seconds == pytest.approx(1.5, abs=0.03)
    assert sound_starts_at(made.path) == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize("name, video_codec, audio_codec", [("lecture.mp4", "libx264", "aac"),  # video copied
                                                            ("lecture.mkv", "libx265", "libopus")])  # re-encoded
def test_a_quiet_lecture_is_normalised_to_minus_16_lufs(tmp_path, name, video_codec, audio_codec):
    source = media_lab.lecture(tmp_path / name, [Segment(1, 0, None), Segment(2, 1, -35), Segment(2, 2, -35)],
                               size=(160, 90), video_codec=video_codec, audio_codec=audio_codec)
    gain_db = -16 - measure_loudness(source).integrated_lufs
    made = normalise_loudness(source, tmp_path / "loud.mp4", gain_db=gain_db)
    loudness = measure_loudness(made.path)
    assert (made.video_codec, made.audio_codec, made.width) == ("h264", "aac", 160)
    assert loudness.integrated_lufs == pytest.approx(-16, abs=1) and loudness.true_peak_dbtp <= -0.5
    assert sound_starts_at(made.path) == pytest.approx(1.0, abs=0.03)  # still with slide 1


def logo(path, kind):
    """A 100×50 red logo; the PNG's right half is transparent."""
    image = Image.new("RGBA", (100, 50), (255, 0, 0, 255))
    if kind == "PNG":
        image.paste((0, 0, 0, 0), (50, 0, 100, 50))
        image.save(path, "PNG")
    else:
        image.convert("RGB").save(path, "JPEG")
    return path


@pytest.mark.parametrize("corner, kind, marked", [("bottom-right", "PNG", (262, 146, 286, 170)),
                                                  ("top-left", "JPEG", (10, 10, 58, 34))])
def test_a_watermark_shows_in_its_corner_only(lecture, tmp_path, corner, kind, marked):
    """48 px wide (0.15 × 320), 10 px (0.03 × 320) from the edges; a PNG's transparent part leaves the picture be."""
    made = watermark(lecture, tmp_path / "marked.mp4", logo(tmp_path / f"logo.{kind.lower()}", kind), corner=corner,
                     opacity=0.6)
    plain = web_rendition(lecture, tmp_path / "plain.mp4")
    (_, with_logo), (_, without) = frames(made.path)[0], frames(plain.path)[0]
    changed = ImageChops.difference(with_logo, without).convert("L").point(lambda value: 255 if value > 40 else 0)
    left, top, right, bottom = changed.getbbox()
    assert (abs(left - marked[0]), abs(top - marked[1]), abs(right - marked[2]), abs(bottom - marked[3])) <= (2, 2, 2, 2)
    assert ImageStat.Stat(changed.crop(marked)).mean[0] > 200  # the logo covers its place


def test_extract_audio_keeps_only_the_sound(lecture, tmp_path):
    made = extract_audio(lecture, tmp_path / "sound.m4a")
    assert (made.video_codec, made.audio_codec) == (None, "aac")
    assert sound_starts_at(made.path) == pytest.approx(2.0, abs=0.03)
    with pytest.raises(ProcessingFailed, match="no audio"):
        extract_audio(media_lab.lecture(tmp_path / "mute.mp4", LECTURE, audio=False), tmp_path / "none.m4a")


def test_a_storyboard_has_a_tile_every_interval_and_a_cue_for_each(tmp_path):
    """A tile is the keyframe at or before its time: in Motion JPEG every frame is one."""
    source = media_lab.lecture(tmp_path / "lecture.mkv", [Segment(3, 0), Segment(3, 1), Segment(1.5, 2)], audio=False,
                               video_codec="mjpeg", pix_fmt="yuvj420p")
    board = storyboard(source, tmp_path, every=3)
    cues = webvtt.from_buffer(io.StringIO(board.vtt)).captions
    assert [(cue.start, cue.end) for cue in cues] == [("00:00:00.000", "00:00:03.000"), ("00:00:03.000", "00:00:06.000"),
                                                      ("00:00:06.000", "00:00:07.500")]
    places = [re.fullmatch(r"storyboard-001\.jpg#xywh=(\d+),0,160,90", cue.text).group(1) for cue in cues]
    assert places == ["0", "160", "320"]
    with Image.open(board.sprite_paths[0]) as sprite:
        tiles = [sprite.crop((x, 0, x + 160, 90)) for x in (0, 160, 320)]
    assert [looks_like(tile, number) for number, tile in enumerate(tiles)] == [True, True, True]


def test_a_long_storyboard_has_at_most_200_tiles_in_sprites_of_100(tmp_path):
    source = media_lab.lecture(tmp_path / "long.mp4", [Segment(450, 0)], fps=1, size=(160, 90), audio=False)
    board = storyboard(source, tmp_path)
    assert board.interval == pytest.approx(2.25)  # 450 s / 200 tiles
    assert len(webvtt.from_buffer(io.StringIO(board.vtt)).captions) == 200
    assert [path.rsplit("/", 1)[1] for path in board.sprite_paths] == ["storyboard-001.jpg", "storyboard-002.jpg"]
    with Image.open(board.sprite_paths[1]) as sprite:
        assert sprite.size == (1600, 900)  # 10 columns × 10 rows of 160×90


@pytest.mark.parametrize("make", [lambda src, dst: web_rendition(src, dst / "web.mp4", should_stop=lambda: True),
                                  lambda src, dst: trim(src, dst / "part.mp4", 1, 3, should_stop=lambda: True),
                                  lambda src, dst: storyboard(src, dst, every=0.5, should_stop=lambda: True)])
def test_stopping_leaves_no_file_behind(lecture, tmp_path, make):
    with pytest.raises(ProcessingStopped):
        make(lecture, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_what_cannot_be_made_says_why(lecture, tmp_path):
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(500))
    sound = media_lab.audio_file(tmp_path / "talk.wav", [Segment(1)])
    with pytest.raises(ProcessingFailed, match="damaged"):
        web_rendition(damaged, tmp_path / "web.mp4")
    with pytest.raises(ProcessingFailed, match="no video to watermark"):
        watermark(sound, tmp_path / "marked.mp4", logo(tmp_path / "logo.png", "PNG"))
    with pytest.raises(ProcessingFailed, match="after its start"):
        trim(lecture, tmp_path / "part.mp4", 5, 2)
    assert not (tmp_path / "web.mp4").exists() and not (tmp_path / "marked.mp4").exists()
