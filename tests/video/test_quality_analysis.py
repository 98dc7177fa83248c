"""The quality report measured on real media made on the spot (media_lab), whose slides, black stretches,
silences and tone levels are known: each finding appears on a file that has the fault and not on a clean one."""
import io
import json

import av
import pytest
from PIL import Image

import media_lab
from mediamgr.video import quality
from mediamgr.video.meters import AnalysisStopped
from mediamgr.video.playable import browser_plays
from media_lab import Segment

SMALL = {"size": (160, 90), "fps": 10}
ON_TARGET_DB = -11.5  # a sine peaking at −11.5 dBFS measures about −15.2 LUFS (see the −20 dBFS test)


def codes(report):
    return {finding.code: finding for finding in report.findings}


def lecture(path, segments, **options):
    return quality.analyse(media_lab.lecture(path, segments, **{**SMALL, **options}))


def encode_slide(path, size, options=None, rotation=None, fps=10, seconds=2):
    """A silent H.264 video of one slide, with encoder options and a display rotation media_lab can't set."""
    with av.open(str(path), "w") as output:
        video = output.add_stream("libx264", rate=fps, options=options or {})
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        if rotation is not None:
            video.set_display_rotation(rotation)
        frame = av.VideoFrame.from_image(media_lab.slide_image(1, size))
        for index in range(seconds * fps):
            frame.pts = index
            output.mux(video.encode(frame))
        output.mux(video.encode())
    return path


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A landscape 640×480 25 fps H.264/AAC MP4 at the target loudness: nothing to report."""
    path = tmp_path_factory.mktemp("clean") / "clean.mp4"
    segments = [Segment(2, 0, ON_TARGET_DB), Segment(2, 1, ON_TARGET_DB)]
    return quality.analyse(media_lab.lecture(path, segments, fps=25, size=(640, 480)))


def test_a_clean_lecture_has_no_findings_and_scores_100(clean):
    assert clean.findings == [] and clean.score == 100
    assert (clean.width, clean.height, clean.frame_rate) == (640, 480, 25.0)
    assert (clean.video_codec, clean.audio_codec, clean.container) == ("h264", "aac", "mp4")
    assert clean.playable and clean.has_video and clean.has_audio
    assert clean.duration_seconds == pytest.approx(4.0, abs=0.1)
    assert clean.video_bitrate > 0 and clean.audio_bitrate > 0
    assert -16.5 <= clean.integrated_lufs <= -14 and clean.true_peak_dbtp < -1
    assert len(clean.loudness_curve) == 4 and clean.black_stretches == [] and clean.silences == []


def test_a_small_slow_lecture_gets_only_information_and_scores_high(tmp_path):
    report = lecture(tmp_path / "small.mp4", [Segment(3, 0, ON_TARGET_DB)])
    assert set(codes(report)) == {"low_resolution", "low_frame_rate"}
    assert all(finding.severity == "info" for finding in report.findings)
    assert "160×90" in codes(report)["low_resolution"].message and "10 fps" in codes(report)["low_frame_rate"].message
    assert report.score == 96


def test_a_sine_at_minus_20_dbfs_measures_its_ebu_r128_loudness(tmp_path):
    # The truth, from BS.1770: loudness = −0.691 + 10·log10(mean square of the K-weighted signal), one
    # channel (mono). A sine peaking at −20 dBFS (amplitude 0.1) has mean square 0.1²/2 = 0.005, i.e.
    # −23.0 dB (RMS is 3 dB below peak); K-weighting is about 0 dB at 440 Hz (the −0.691 offset cancels
    # its +0.69 dB at 1 kHz), so the tone measures −23.0 − 0.7 ≈ −23.7 LUFS, with a true peak of −20 dBTP.
    path = media_lab.audio_file(tmp_path / "tone.wav", [Segment(5, level_db=-20)])
    loudness = quality.measure_loudness(path)
    assert loudness.integrated_lufs == pytest.approx(-23.7, abs=1.5)
    assert loudness.true_peak_dbtp == pytest.approx(-20.0, abs=0.5)
    assert loudness.loudness_curve == [pytest.approx(-23.7, abs=1.5)] * 5
    quiet = codes(quality.analyse(path))["quiet_audio"]
    assert (quiet.severity, quiet.action) == ("warning", "normalise")


def test_a_very_quiet_lecture_is_a_problem_that_normalising_fixes(tmp_path, clean):
    report = lecture(tmp_path / "quiet.mp4", [Segment(4, 0, -35)])
    assert report.integrated_lufs == pytest.approx(-38.7, abs=1.5)  # −35 dBFS peak: 3.7 dB lower, as above
    quiet = codes(report)["quiet_audio"]
    assert (quiet.severity, quiet.action, quiet.fix) == ("problem", "normalise", "Normalise loudness")
    assert "−39 LUFS" in quiet.message and "−16 to −14 LUFS" in quiet.message
    assert "quiet_audio" not in codes(clean)


def test_a_loud_lecture_is_a_problem_that_normalising_fixes(tmp_path, clean):
    report = lecture(tmp_path / "loud.mp4", [Segment(4, 0, -3)])
    assert report.integrated_lufs == pytest.approx(-6.7, abs=1.5)
    loud = codes(report)["loud_audio"]
    assert (loud.severity, loud.action) == ("problem", "normalise")
    assert "loud_audio" not in codes(clean)


def test_peaks_near_full_scale_are_a_warning_even_at_a_moderate_loudness(tmp_path):
    path = media_lab.audio_file(tmp_path / "peaky.wav", [Segment(6, level_db=-24), Segment(0.3, level_db=-0.5)])
    report = quality.analyse(path)
    assert -20 <= report.integrated_lufs <= -12 and report.true_peak_dbtp > -1
    loud = codes(report)["loud_audio"]
    assert (loud.severity, loud.action) == ("warning", "normalise") and "dBTP" in loud.message


def test_a_black_stretch_is_found_with_its_times(tmp_path, clean):
    segments = [Segment(3, 0), Segment(1, None), Segment(2, 1), Segment(3, None), Segment(3, 2)]
    report = lecture(tmp_path / "black.mp4", segments)
    assert len(report.black_stretches) == 1  # the 1 s one is shorter than min_stretch
    (start, end), = report.black_stretches
    assert start == pytest.approx(6.0, abs=0.5) and end == pytest.approx(9.0, abs=0.5)
    black = codes(report)["black_video"]
    assert black.severity == "warning" and black.at == report.black_stretches and "0:06–0:09" in black.message
    assert "black_video" not in codes(clean)


def test_a_silence_is_found_with_its_times(tmp_path, clean):
    report = lecture(tmp_path / "silence.mp4", [Segment(3, 0), Segment(3, 0, None), Segment(3, 0)])
    (start, end), = report.silences
    assert start == pytest.approx(3.0, abs=0.2) and end == pytest.approx(6.0, abs=0.2)
    silence = codes(report)["silence"]
    assert silence.severity == "warning" and silence.at == report.silences and "for 3 s (0:03–0:06)" in silence.message
    assert report.loudness_curve[4] < -60  # the 3 s window centred on the silent second (AAC blurs its edges)
    assert "silence" not in codes(clean)


def test_black_and_silence_running_to_the_end_are_found(tmp_path):
    report = lecture(tmp_path / "tail.mp4", [Segment(3, 0), Segment(3, None, None)])
    assert report.black_stretches == [(pytest.approx(3.0, abs=0.5), pytest.approx(6.0, abs=0.5))]
    assert report.silences == [(pytest.approx(3.0, abs=0.2), pytest.approx(6.0, abs=0.2))]


def test_a_silent_recording_is_a_problem(tmp_path):
    report = quality.analyse(media_lab.audio_file(tmp_path / "muted.wav", [Segment(5, level_db=None)]))
    assert report.integrated_lufs is None and report.true_peak_dbtp is None
    silence = codes(report)["silence"]
    assert silence.severity == "problem" and "quiet_audio" not in codes(report)


def test_a_video_without_sound_is_a_warning(tmp_path, clean):
    report = lecture(tmp_path / "mute.mp4", [Segment(3, 0)], audio=False)
    assert not report.has_audio and report.integrated_lufs is None and report.loudness_curve == []
    assert codes(report)["no_audio"].severity == "warning"
    assert quality.loudness_sparkline(report) is None
    assert "no_audio" not in codes(clean)


@pytest.mark.parametrize("make", [
    lambda path: media_lab.lecture(path, [Segment(2, 0, ON_TARGET_DB)], fps=10, size=(90, 160)),
    lambda path: encode_slide(path, (160, 90), rotation=90),  # a phone's portrait video: stored landscape, turned
], ids=["portrait pixels", "rotated landscape"])
def test_a_portrait_video_is_noted(tmp_path, clean, make):
    report = quality.analyse(make(tmp_path / "portrait.mp4"))
    assert (report.width, report.height) == (90, 160)
    assert codes(report)["portrait"].severity == "info" and "portrait" not in codes(clean)


def test_a_heavily_compressed_video_is_a_warning(tmp_path, clean):
    report = quality.analyse(encode_slide(tmp_path / "starved.mp4", (160, 90), options={"qp": "45"}))
    assert report.video_quantiser == pytest.approx(45 - 3, abs=1)  # the keyframes' (x264's ipratio: 3 finer)
    assert codes(report)["low_bitrate"].severity == "warning"
    assert clean.video_quantiser < 30 and "low_bitrate" not in codes(clean)


def test_hevc_in_mkv_does_not_play_in_browsers_and_a_web_rendition_fixes_it(tmp_path, clean):
    path = media_lab.lecture(tmp_path / "camera.mkv", [Segment(2, 0)], fps=10, size=(160, 90), video_codec="libx265",
                             audio_codec="libopus")
    report = quality.analyse(path)
    assert (report.video_codec, report.audio_codec, report.container) == ("hevc", "opus", "matroska")
    assert not report.playable and report.playable_reason == browser_plays("matroska,webm", "hevc", "opus").reason
    not_playable = codes(report)["not_playable"]
    assert (not_playable.severity, not_playable.action) == ("problem", "web_rendition")
    assert not_playable.message == report.playable_reason
    assert "not_playable" not in codes(clean)


def test_an_audio_only_wav_gets_sound_findings_only(tmp_path):
    path = media_lab.audio_file(tmp_path / "talk.wav", [Segment(3, level_db=ON_TARGET_DB), Segment(3, level_db=None),
                                                        Segment(3, level_db=ON_TARGET_DB)])
    report = quality.analyse(path)
    assert not report.has_video and report.has_audio and report.playable
    assert (report.container, report.audio_codec, report.width, report.frame_rate) == ("wav", "pcm_s16le", None, None)
    assert set(codes(report)) == {"silence"} and codes(report)["silence"].severity == "warning"
    assert report.score == 90


def test_the_score_deducts_by_severity(tmp_path, clean):
    segments = [Segment(3, 0, -35), Segment(3, None, -35), Segment(3, 1, None), Segment(3, 2, -35)]
    report = lecture(tmp_path / "bad.mp4", segments)
    assert [(f.code, f.severity) for f in report.findings] == [
        ("quiet_audio", "problem"), ("black_video", "warning"), ("silence", "warning"),
        ("low_resolution", "info"), ("low_frame_rate", "info")]
    assert report.score == 100 - 25 - 10 - 10 - 2 - 2 < clean.score


def test_the_report_survives_a_json_column(tmp_path):
    report = lecture(tmp_path / "black.mp4", [Segment(3, 0), Segment(3, None, None), Segment(3, 1)])
    stored = json.loads(json.dumps(report.to_json()))
    assert quality.QualityReport.from_json(stored) == report


def test_the_sparkline_is_a_png_of_the_requested_size(tmp_path):
    report = lecture(tmp_path / "black.mp4", [Segment(3, 0), Segment(3, None, None), Segment(3, 1)])
    png = quality.loudness_sparkline(report, size=(240, 40))
    assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).size == (240, 40)


def test_progress_is_reported_and_a_stop_request_is_obeyed(tmp_path):
    path = media_lab.lecture(tmp_path / "long.mp4", [Segment(6, 0)], **SMALL)
    fractions = []
    quality.analyse(path, progress=fractions.append)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 2
    with pytest.raises(AnalysisStopped):
        quality.analyse(path, should_stop=lambda: True)
