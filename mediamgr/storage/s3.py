"""S3-compatible storage (Backblaze B2, or moto in tests) through boto3 with multipart transfers."""
import contextlib
import threading
import time
from datetime import datetime, timezone
from collections import OrderedDict
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import has_request_context

from .base import CHUNK_BYTES, Storage, StorageError, content_disposition
from .signing import window_for

MiB = 1024 * 1024
# Measured against an S3 endpoint on this machine: 8 MiB parts on 10 threads moved a 512 MiB file
# 1.2-1.4x faster than 64 MiB parts on 8 (B2 takes parts from 5 MB; s3transfer grows the part size
# by itself when a file would need more than 10,000 parts).
TRANSFER = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB,
                          max_concurrency=10, io_chunksize=1 * MiB, use_threads=True)
_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
# Timeouts (seconds) and attempts (botocore's "standard" retries: the first try included). A worker
# may wait for a slow B2; a web request must answer in seconds even when storage hangs, so the few
# calls a request makes (the health probe) use a client of their own.
WORKER_TIMEOUTS = {"connect_timeout": 10, "read_timeout": 60, "attempts": 5}
REQUEST_TIMEOUTS = {"connect_timeout": 2, "read_timeout": 3, "attempts": 2}
_PERMANENT_CODES = {"AccessDenied", "NoSuchBucket", "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchKey", "404"}


def _storage_error(error):
    code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
    return StorageError(f"storage request failed: {code or error}", transient=code not in _PERMANENT_CODES)


class _PresignCache:
    """Reuses a presigned URL for a tenth of its life (signing.window_for), so thumbnails stay
    cacheable and a URL handed out still has nine tenths of SIGNED_URL_TTL to live."""

    def __init__(self, size=20000):
        self._urls = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key, ttl, make):
        now = time.monotonic()
        with self._lock:
            hit = self._urls.get(key)
            if hit and hit[1] - now > ttl - window_for(ttl):
                self._urls.move_to_end(key)
                return hit[0]
        url = make()
        with self._lock:
            self._urls[key] = (url, now + ttl)
            if len(self._urls) > self._size:
                self._urls.popitem(last=False)
        return url


class S3Storage(Storage):
    def __init__(self, endpoint_url, bucket, access_key_id, secret_access_key, region, cdn_base_url=None):
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.cdn_base_url = cdn_base_url
        def client(timeouts):
            # B2 refuses the x-amz-checksum-* headers that boto3 sends by default since 1.36: send them only
            # when an API requires one. (Without them botocore signs each part's SHA-256 instead.)
            config = Config(signature_version="s3v4", s3={"addressing_style": "path"},
                            connect_timeout=timeouts["connect_timeout"], read_timeout=timeouts["read_timeout"],
                            retries={"total_max_attempts": timeouts["attempts"], "mode": "standard"},
                            max_pool_connections=20, request_checksum_calculation="when_required",
                            response_checksum_validation="when_required")
            return boto3.client("s3", endpoint_url=endpoint_url, aws_access_key_id=access_key_id,
                                aws_secret_access_key=secret_access_key, region_name=region, config=config)

        self.client = client(WORKER_TIMEOUTS)
        self.request_client = client(REQUEST_TIMEOUTS)
        self._presigned = _PresignCache()

    @property
    def _client(self):
        """The client for where this runs: short timeouts inside a web request, patient ones elsewhere."""
        return self.request_client if has_request_context() else self.client

    @classmethod
    def from_config(cls, config):
        return cls(config["S3_ENDPOINT_URL"], config["S3_BUCKET"], config["S3_ACCESS_KEY_ID"],
                   config["S3_SECRET_ACCESS_KEY"], config["S3_REGION"], config.get("CDN_BASE_URL"))

    def put_file(self, key, path, content_type, progress=None):
        done = 0
        lock = threading.Lock()

        def on_bytes(count):  # called from the transfer's threads
            nonlocal done
            with lock:
                done += count
                current = done
            if progress:
                progress(current)

        try:
            self.client.upload_file(str(path), self.bucket, key, ExtraArgs={"ContentType": content_type},
                                    Callback=on_bytes, Config=TRANSFER)
        except (BotoCoreError, ClientError, OSError) as error:
            raise _storage_error(error) from error

    def download_to(self, key, path):
        try:
            self.client.download_file(self.bucket, key, str(path), Config=TRANSFER)
        except (BotoCoreError, ClientError) as error:
            raise _storage_error(error) from error

    def read_chunks(self, key, chunk_size=CHUNK_BYTES):
        """GetObject, read as it arrives (the client for where this runs: a web request's stream gives
        up in seconds on a storage that stops answering, a worker's waits)."""
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
            with contextlib.closing(body):
                yield from body.iter_chunks(chunk_size)
        except (BotoCoreError, ClientError) as error:
            raise _storage_error(error) from error

    def delete_many(self, keys):
        requests = 0
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start:start + _DELETE_BATCH]]
            try:
                answer = self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            except (BotoCoreError, ClientError) as error:
                raise _storage_error(error) from error
            requests += 1
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise StorageError(f"could not delete {first.get('Key')}: {first.get('Code')}")
        return requests

    def copy(self, source_key, target_key):
        """CopyObject (UploadPartCopy past 5 GB, in boto3's managed copy): the bytes stay in the bucket."""
        try:
            self.client.copy({"Bucket": self.bucket, "Key": source_key}, self.bucket, target_key, Config=TRANSFER)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise StorageError(f"no stored object {source_key}", transient=False) from error
            raise _storage_error(error) from error
        except BotoCoreError as error:
            raise _storage_error(error) from error

    def exists(self, key):
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise _storage_error(error) from error
        except BotoCoreError as error:
            raise _storage_error(error) from error

    def signed_url(self, key, filename, content_type, disposition="inline", ttl=1800):
        def presign():
            url = self.client.generate_presigned_url("get_object", ExpiresIn=ttl, Params={
                "Bucket": self.bucket, "Key": key, "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition(disposition, filename)})
            return self._through_cdn(url)

        return self._presigned.get((key, filename, content_type, disposition, ttl), ttl, presign)

    def _through_cdn(self, url):
        """Swap the endpoint (and path-style bucket) for CDN_BASE_URL, keeping the signed path and query."""
        if not self.cdn_base_url:
            return url
        parts = urlsplit(url)
        path = parts.path.removeprefix(f"/{self.bucket}")
        return f"{self.cdn_base_url}{path}?{parts.query}"

    def check(self):
        """Is the bucket there? With the short timeouts wherever it runs: a health check must be quick."""
        try:
            self.request_client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as error:
            raise _storage_error(error) from error

    def abort_abandoned_uploads(self, older_than, key=None):
        """Cancel the multipart uploads (of `key`, else of every key) started more than `older_than` (a
        timedelta) ago: parts of a transfer whose worker was killed, which B2 keeps (and bills) until
        cancelled. Returns how many were cancelled."""
        cutoff = datetime.now(timezone.utc) - older_than
        cancelled = 0
        try:
            for page in self._client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket,
                                                                                     Prefix=key or "users/"):
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] < cutoff and (key is None or upload["Key"] == key):
                        self._client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                            UploadId=upload["UploadId"])
                        cancelled += 1
        except (BotoCoreError, ClientError) as error:
            raise _storage_error(error) from error
        return cancelled
