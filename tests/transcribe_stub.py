"""A stand-in speech model for automatic captions (TRANSCRIBE_BACKEND="transcribe_stub:transcribe"):
the real backend downloads model weights, which the tests never do. It "hears" one sentence per tone
of the file, at the tone's times, so the cues follow the file."""
import av

CALLS = []


def transcribe(path, language, model_name):
    CALLS.append((language, model_name))
    with av.open(str(path)) as container:
        seconds = container.duration / av.time_base
    yield 0.5, min(3.0, seconds), "Today: Dijkstra's algorithm."
    if seconds > 4:
        yield 4.0, seconds - 0.5, "--> Relaxing the edges."
