"""The storage interface and what its implementations share."""
from abc import ABC, abstractmethod
from urllib.parse import quote


CHUNK_BYTES = 1024 * 1024  # what read_chunks hands over at a time: memory stays flat whatever the size


class StorageError(Exception):
    """A storage request failed; `transient` says whether trying again may help."""

    def __init__(self, message, transient=True):
        super().__init__(message)
        self.transient = transient


def content_disposition(disposition, filename):
    """RFC 6266 header value that survives non-ASCII and quote characters in the name."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'").replace("\\", "_")
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


class Storage(ABC):
    @abstractmethod
    def put_file(self, key, path, content_type, progress=None):
        """Store the file at `path` under `key`; progress(bytes_so_far) is called as bytes go."""

    @abstractmethod
    def download_to(self, key, path):
        """Copy the stored object to the local file `path`."""

    @abstractmethod
    def read_chunks(self, key, chunk_size=CHUNK_BYTES):
        """The stored object's bytes, `chunk_size` at a time (a generator: nothing is read, and no
        error is raised, until the first chunk is asked for)."""

    @abstractmethod
    def delete_many(self, keys):
        """Remove the objects (missing ones are fine); returns the number of requests made."""

    @abstractmethod
    def exists(self, key):
        """True when an object is stored under `key`."""

    @abstractmethod
    def signed_url(self, key, filename, content_type, disposition="inline", ttl=1800):
        """A URL that serves the object (with HTTP Range) until it expires after `ttl` seconds."""

    @abstractmethod
    def copy(self, source_key, target_key):
        """Copy a stored object to another key, within the storage (the bytes never pass through us)."""

    @abstractmethod
    def check(self):
        """Raise StorageError when the storage cannot be reached."""

    def abort_abandoned_uploads(self, older_than, key=None):
        """Cancel unfinished multipart uploads (of `key`, else of every key) older than `older_than`;
        returns how many (none here: only object stores have them)."""
        return 0
