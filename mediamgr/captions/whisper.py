"""The "faster-whisper" backend of automatic captions (captions.transcribe): speech to text on the
CPU with CTranslate2's Whisper. Needs the optional extra `pip install 'mediamgr[transcribe]'`; the
model (TRANSCRIBE_MODEL, "small" by default: about 0.5 GB) is downloaded from Hugging Face on the
worker's machine the first time it is used."""
from faster_whisper import WhisperModel

_models = {}


def transcribe(path, language, model_name):
    """(start, end, text) of each segment of speech in the file at `path`."""
    model = _models.get(model_name)
    if model is None:
        model = _models[model_name] = WhisperModel(model_name, device="cpu", compute_type="int8")
    segments, _info = model.transcribe(str(path), language=language.split("-")[0], vad_filter=True)
    for segment in segments:
        yield segment.start, segment.end, segment.text
