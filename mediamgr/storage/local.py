"""Local-disk storage under STORAGE_ROOT, served through signed URLs by the /files route."""
import contextlib
import os
import shutil
from pathlib import Path

from flask import current_app, request

from .base import CHUNK_BYTES, Storage, StorageError
from .signing import sign_file_token

_COPY_CHUNK = 8 * 1024 * 1024
FILES_PATH = "/files/"  # where the signed-file route (storage/routes.py) listens


class LocalStorage(Storage):
    def __init__(self, root, cdn_base_url=None):
        self.root = Path(root).resolve()
        self.cdn_base_url = cdn_base_url

    @classmethod
    def from_config(cls, config):
        return cls(config["STORAGE_ROOT"], config.get("CDN_BASE_URL"))

    def path_for(self, key):
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise StorageError(f"invalid storage key {key!r}", transient=False)
        return path

    def put_file(self, key, path, content_type, progress=None):
        target = self.path_for(key)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, partial)  # same filesystem: no bytes to copy
                done = os.path.getsize(partial)
            except OSError:
                done = self._copy(path, partial, progress)
            os.replace(partial, target)
        except OSError as error:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise StorageError(f"could not write to local storage: {error.strerror or error}") from error
        if progress:
            progress(done)

    @staticmethod
    def _copy(source, target, progress):
        done = 0
        with open(source, "rb") as reader, open(target, "wb") as writer:
            while chunk := reader.read(_COPY_CHUNK):
                writer.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done)
        return done

    def download_to(self, key, path):
        try:
            shutil.copyfile(self.path_for(key), path)
        except FileNotFoundError as error:
            raise StorageError(f"no stored object {key}", transient=False) from error

    def read_chunks(self, key, chunk_size=CHUNK_BYTES):
        try:
            reader = open(self.path_for(key), "rb")
        except FileNotFoundError as error:
            raise StorageError(f"no stored object {key}", transient=False) from error
        with reader:
            while chunk := reader.read(chunk_size):
                yield chunk

    def delete_many(self, keys):
        for key in keys:
            self.path_for(key).unlink(missing_ok=True)
        return 1 if keys else 0

    def exists(self, key):
        return self.path_for(key).is_file()

    def copy(self, source_key, target_key):
        target = self.path_for(target_key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".copying")
        try:
            shutil.copyfile(self.path_for(source_key), partial)
        except FileNotFoundError as error:
            raise StorageError(f"no stored object {source_key}", transient=False) from error
        os.replace(partial, target)

    def signed_url(self, key, filename, content_type, disposition="inline", ttl=1800):
        payload = {"k": key, "n": filename, "t": content_type, "d": disposition}
        token = sign_file_token(current_app.config["SECRET_KEY"], payload, ttl)
        path = f"{request.script_root}{FILES_PATH}{token}"  # url_for costs more than a page of cards should
        return self.cdn_base_url + path if self.cdn_base_url else path

    def check(self):
        if not os.access(self.root if self.root.exists() else self.root.parent, os.W_OK):
            raise StorageError(f"{self.root} is not writable")
