"""The zip at scale: ZIP64 once a file passes 4 GiB, and flat memory while a 200 MB selection is zipped,
streamed by the route or written by the job."""
import os
import threading
import zipfile

import psutil
import sqlalchemy as sa

from mediamgr.archive.service import Entry, zip_stream
from mediamgr.extensions import db
from mediamgr.library.models import MediaFile
from mediamgr.progress.models import Operation

from factories import stored_files

GiB = 1024**3
MiB = 1024**2


class ZeroStorage:
    """Stored objects of zeros, as big as asked: a 4 GiB file without 4 GiB on disk."""

    zeros = bytes(MiB)

    def __init__(self, sizes):
        self.sizes = sizes

    def read_chunks(self, key, chunk_size=MiB):
        left = self.sizes[key]
        while left:
            piece = self.zeros if left >= MiB else self.zeros[:left]
            left -= len(piece)
            yield piece


class PeakMemory:
    """The highest RSS of this process while the block runs, sampled every 5 ms."""

    def __enter__(self):
        self.process, self.done = psutil.Process(), threading.Event()
        self.before = self.peak = self.process.memory_info().rss
        self.sampler = threading.Thread(target=self._sample)
        self.sampler.start()
        return self

    def _sample(self):
        while not self.done.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *_exc):
        self.done.set()
        self.sampler.join()

    @property
    def growth_mib(self):
        return (self.peak - self.before) / MiB


def test_a_file_past_4_gib_is_zipped_with_zip64(app, tmp_path):
    sizes = {"big": 4 * GiB + 3 * MiB, "small": 5}
    app.extensions["storage"] = ZeroStorage(sizes)
    stream = zip_stream([Entry("recording.mp4", "big", sizes["big"]), Entry("notes.txt", "small", 5)])
    length = len(stream)
    path = tmp_path / "big.zip"
    with open(path, "wb") as out:  # a sparse file: the zeros are skipped over, the headers written
        for piece in stream:
            if piece is ZeroStorage.zeros:
                out.seek(len(piece), os.SEEK_CUR)
            else:
                out.write(piece)
        out.truncate()
    assert os.path.getsize(path) == length
    archive = zipfile.ZipFile(path)
    big, small = archive.infolist()
    assert big.file_size == sizes["big"] and big.compress_type == zipfile.ZIP_STORED
    assert archive.read(small) == bytes(5)


def test_streaming_200_mb_keeps_memory_flat(ada, app):
    chunk = os.urandom(MiB)
    ids = stored_files("ada@example.com", {f"lecture {n}.mp4": chunk * 50 for n in range(4)}, kind="video")
    del chunk
    assert sum(db.session.get(MediaFile, media_id).size_bytes for media_id in ids) == 200 * MiB
    with PeakMemory() as memory:
        # the test's own context (not an isolated one): the response streams after the request returns
        answer = ada.client.raw.post("/media/download", data={"scope": "library", "ids": [str(i) for i in ids]},
                                     headers=ada.headers(htmx=False))
        sent = sum(len(piece) for piece in answer.response)
    assert sent == int(answer.headers["Content-Length"]) > 200 * MiB
    print(f"zipping 200 MiB: peak RSS grew by {memory.growth_mib:.1f} MiB")
    assert memory.growth_mib < 32, memory.growth_mib


def test_a_background_zip_of_200_mb_keeps_memory_flat(ada, app, worker):
    app.config["ARCHIVE_STREAM_MAX_BYTES"] = MiB
    chunk = os.urandom(MiB)
    ids = stored_files("ada@example.com", {f"recording {n}.mp4": chunk * 50 for n in range(4)}, kind="video")
    del chunk
    assert ada.post("/media/download", {"scope": "library", "ids": [str(i) for i in ids]}).status_code == 200
    with PeakMemory() as memory:
        worker()
    operation = db.session.scalars(sa.select(Operation).where(Operation.kind == "archive")).one()
    assert operation.status == "succeeded", operation.error
    print(f"background zip of 200 MiB: peak RSS grew by {memory.growth_mib:.1f} MiB")
    assert memory.growth_mib < 32, memory.growth_mib
