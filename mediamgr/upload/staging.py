"""Request bodies streamed to a staging file, hashed (SHA-256) and size-checked in the same pass."""
import hashlib
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from werkzeug.exceptions import RequestEntityTooLarge

from .sniff import SNIFF_BYTES
from .space import OutOfSpace, is_disk_full

COPY_CHUNK = 1024 * 1024
# After an upload passes the limit, read (and drop) this much more of its body so that the client,
# still sending, gets the 413 and its message: a server that stops reading resets the connection
# and the client sees only "broken pipe". A body longer still is cut off.
OVERSIZE_DRAIN_BYTES = 256 * 1024 * 1024


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
        try:
            self._file.write(chunk)
        except OSError as error:
            self._give_back(error)
        return len(chunk)

    def _give_back(self, error):
        """A full disk: remove what was written (so the disk is not left full) and say so (507)."""
        if not is_disk_full(error):
            raise error
        self.discard()
        raise OutOfSpace() from error

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
        try:
            with ThreadPoolExecutor(1, "staging-hash") as hasher, ThreadPoolExecutor(1, "staging-write") as writer:
                pending = ()
                try:
                    while chunk := stream.read(COPY_CHUNK):
                        for step in pending:
                            step.result()
                        try:
                            self._count(chunk)
                        except UploadTooLarge:
                            _drain(stream, OVERSIZE_DRAIN_BYTES)
                            raise
                        pending = (hasher.submit(self._hash.update, chunk), writer.submit(self._file.write, chunk))
                finally:
                    for step in pending:
                        step.result()
            self.close()
        except OSError as error:
            self._give_back(error)
        return self

    @property
    def sha256(self):
        return self._hash.hexdigest()

    def close(self):
        if not self._file.closed:
            try:
                self._file.close()  # flushes: may meet a full disk too
            except OSError as error:
                self._give_back(error)

    def discard(self):
        try:
            self._file.close()
        except OSError:
            pass
        if not self.kept:
            self.path.unlink(missing_ok=True)

    def move_to(self, path):
        self.close()
        os.replace(self.path, path)
        self.path = Path(path)
        self.kept = True


def _drain(stream, limit):
    drained = 0
    try:
        while drained < limit and (chunk := stream.read(COPY_CHUNK)):
            drained += len(chunk)
    except OSError:  # the client gave up: nothing to answer
        pass


class FinishedFile:
    """A file that arrived in pieces (a resumable upload), hashed as its pieces arrived (upload.tus);
    it offers what accept_staged_file needs, as a StagedFile does."""

    def __init__(self, path, filename, sha256, head, size):
        self.path = Path(path)
        self.filename = filename
        self.kept = False
        self.sha256, self.head, self.size = sha256, head, size

    def close(self):
        pass

    def discard(self):
        if not self.kept:
            self.path.unlink(missing_ok=True)

    def move_to(self, path):
        os.replace(self.path, path)
        self.path = Path(path)
        self.kept = True
