"""Caption files in: WebVTT kept, SRT converted, anything else refused with the line and what is wrong."""
import pytest

from mediamgr.captions.formats import MAX_CAPTION_BYTES, CaptionError, parse_cue_time, read_captions

VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello\n\nintro\n00:01.000 --> 00:03.000 align:start\nWorld <b>x</b>\n"
SRT = b"1\r\n00:00:01,000 --> 00:00:02,500\r\nHello\r\n\r\n2\r\n00:01:03,000 --> 00:01:04,250\r\nDijkstra's <i>algorithm</i>\r\n"


def test_a_webvtt_file_is_kept_with_its_cue_settings():
    captions = read_captions(VTT)
    assert captions.converted_from == "WebVTT"
    assert [(cue.start, cue.end, cue.text) for cue in captions.cues] == [(1.0, 2.5, "Hello"), (1.0, 3.0, "World x")]
    assert "00:00:01.000 --> 00:00:03.000 align:start" in captions.vtt
    assert captions.vtt.startswith("WEBVTT")


def test_an_srt_file_becomes_webvtt():
    captions = read_captions("\ufeff".encode() + SRT)  # with a byte order mark, as Windows tools write it
    assert captions.converted_from == "SRT"
    assert captions.vtt.startswith("WEBVTT\n")
    assert "00:01:03.000 --> 00:01:04.250\nDijkstra's <i>algorithm</i>" in captions.vtt
    assert [cue.text for cue in captions.cues] == ["Hello", "Dijkstra's algorithm"]
    assert captions.cues[1].start == 63.0


@pytest.mark.parametrize("data, line, says", [
    (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nHello\n\n00:00:03.000 --> 00:00:0x.000\nWorld\n", 6,
     "“00:00:03.000 --> 00:00:0x.000” is not a cue timing"),
    (b"1\n00:00:01,000 --> 00:00:02,000\nA\n\n2\n00:00:01,000 -> 00:00:02,500\nHello\n", 6,
     "“00:00:01,000 -> 00:00:02,500” is not a cue timing"),
    (b"1\n00:00:01,000 --> 00:00:02,000\nA\n\nB\n00:00:01,000 --> 00:00:02,500\nHello\n", 5,
     "expected the number of a cue, found “B”"),
    (b"WEBVTT\n\n00:00:05.000 --> 00:00:02.500\nHello\n", 3, "the cue ends (00:00:02.500) before it starts (00:00:05.000)"),
    (b"WEBVTT\n\nstray text\n", 3, "“stray text” is not part of a cue"),
    (b"WEBVTTX\n\n00:00:01.000 --> 00:00:02.500\nHi\n", 1, "the first line must be “WEBVTT”"),
    (b"WEBVTT\n00:00:01.000 --> 00:00:02.500\nHi\n", 2, "leave a blank line between “WEBVTT” and the first cue"),
    (b"hello world\n", 1, "neither WebVTT"),
    ("WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nCaf\u00e9\n".encode("latin-1"), 4, "not UTF-8 text"),
])
def test_a_malformed_file_is_refused_with_its_line_and_what_is_wrong(data, line, says):
    with pytest.raises(CaptionError) as refused:
        read_captions(data)
    assert refused.value.line == line
    assert str(refused.value).startswith(f"Line {line}: ")
    assert says in str(refused.value)


@pytest.mark.parametrize("data, says", [
    (b"  \n\n", "The file is empty."),
    (b"WEBVTT\n\nNOTE only a note\n", "The file has no cues"),
    (b"WEBVTT\n\n" + b"x" * (MAX_CAPTION_BYTES + 1), "a caption file can be at most 2 MB"),
])
def test_a_file_without_captions_is_refused(data, says):
    with pytest.raises(CaptionError, match=says):
        read_captions(data)


# One reading of a typed time for the cue editor, chapter markers and trims.
@pytest.mark.parametrize("text, seconds", [("65.5", 65.5), ("1:05", 65.0), ("1:02:03", 3723.0), (" 0:07.25 ", 7.25),
                                           ("90", 90.0)])
def test_typed_times_are_read_as_people_write_them(text, seconds):
    assert parse_cue_time(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "1:75", "1:60:00", "-5", "1e3", "1::2", "nan"])
def test_a_time_that_is_not_one_is_refused_in_words(text):
    with pytest.raises(ValueError, match="is not a time|more than 59"):
        parse_cue_time(text)
