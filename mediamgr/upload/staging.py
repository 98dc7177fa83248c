"""Request bodies streamed to a staging file, hashed (SHA-256) and size-checked in the same pass."""
import hashlib
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from werkzeug.exceptions import RequestEntityTooLarge

from .sniff import SNIFF_BYTES

COPY_CHUNK = 1024 * 1024


class UploadTooLarge(RequestEntityTooLarge):
    def __init__(self, limit_text):
        super().__init__(f"This file is larger than the {limit_text} upload limit.")


class StagedFile:
    """A writable staging file; the size limit is enforced as bytes arrive, never after."""

    def __init__(self, staging_dir, limit, limit_text, filename=""):
        Path(staging_dir).mkdir(parents=True, exist_ok=True)
        fd, path = tempfile.mkstemp(dir=staging_dir, prefix="incoming-", suffix=".part")
        self.path = Path(path)
        self.filename = filename
        self.kept = False
        self.size = 0
        self.head = bytearray()
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self._limit = limit
        self._limit_text = limit_text

    def write(self, chunk):
        self._count(chunk)
        self._hash.update(chunk)
        self._file.write(chunk)
        return len(chunk)

    def _count(self, chunk):
        self.size += len(chunk)
        if self.size > self._limit:
            self.discard()
            raise UploadTooLarge(self._limit_text)
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]

    def seek(self, *args):  # werkzeug's form parser rewinds file streams once they are complete
        return 0

    def copy_from(self, stream):
        """Read the body while two threads hash and write the chunk before: socket reads,
        SHA-256 and disk writes each release the GIL, so all three overlap. At most one chunk
        waits per thread, so memory stays flat whatever the file's size."""
        with ThreadPoolExecutor(1, "staging-hash") as hasher, ThreadPoolExecutor(1, "staging-write") as writer:
            pending = ()
            try:
                while chunk := stream.read(COPY_CHUNK):
                    for step in pending:
                        step.result()
                    self._count(chunk)
                    pending = (hasher.submit(self._hash.update, chunk), writer.submit(self._file.write, chunk))
            finally:
                for step in pending:
                    step.result()
        self.close()
        return self

    @property
    def sha256(self):
        return self._hash.hexdigest()

    def close(self):
        if not self._file.closed:
            self._file.close()

    def discard(self):
        self.close()
        if not self.kept:
            self.path.unlink(missing_ok=True)

    def move_to(self, path):
        self.close()
        os.replace(self.path, path)
        self.path = Path(path)
        self.kept = True


class FinishedFile:
    """A file that arrived in pieces (a resumable upload), hashed once it is complete; it offers
    what accept_staged_file needs, as a StagedFile does."""

    def __init__(self, path, filename):
        self.path = Path(path)
        self.filename = filename
        self.kept = False
        digest = hashlib.sha256()
        with open(self.path, "rb") as source:
            self.head = source.read(SNIFF_BYTES)
            digest.update(self.head)
            while chunk := source.read(COPY_CHUNK):
                digest.update(chunk)
        self.size = self.path.stat().st_size
        self.sha256 = digest.hexdigest()

    def close(self):
        pass

    def discard(self):
        if not self.kept:
            self.path.unlink(missing_ok=True)

    def move_to(self, path):
        os.replace(self.path, path)
        self.path = Path(path)
        self.kept = True
