"""Transfer to S3: mediamgr's S3Storage.put_file (the call the upload job makes, with the job's
progress callback) against a plain boto3 upload_file with boto3's defaults, same file, same
endpoint: moto's standalone S3 server in a process of its own, so it does not share our GIL.

moto serves HTTPS, as B2 does (it is HTTPS-only). Most of the gap to raw boto3 is the checksum
setting B2 needs (`when_required`, see mediamgr/storage/s3.py): with no checksum header, botocore
signs each part's SHA-256 instead, a cost that shows on loopback and hides behind a real network."""
import contextvars
import datetime
import ipaddress
import os
import shutil
import sys
import time
from types import SimpleNamespace

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mediamgr import create_app
from mediamgr.progress.publisher import ProgressReporter
from mediamgr.storage.s3 import TRANSFER, S3Storage

from .payload import MiB, size_text
from .report import Check, median
from .services import free_port, start_process, stop_process, wait_for_http

MIN_RATIO_TO_RAW = 0.9
BUCKET = "mediamgr-bench"
CREDENTIALS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench", "region_name": "us-east-1"}
PROBE_MIB = 192  # multipart, and long enough for the job's progress callback to publish


class MotoServer:
    """moto over HTTPS with a certificate made for the run; boto3 and requests trust it through
    AWS_CA_BUNDLE and REQUESTS_CA_BUNDLE while the server runs."""

    def __init__(self, folder):
        self.folder = folder
        self.url = f"https://127.0.0.1:{free_port()}"
        self.log_path = folder / "moto.log"
        self._saved_env = {}

    def __enter__(self):
        cert, key = self_signed_certificate(self.folder)
        for name in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
            self._saved_env[name] = os.environ.get(name)
            os.environ[name] = str(cert)
        port = self.url.rsplit(":", 1)[1]
        self.process = start_process([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", port,
                                      "--ssl", "--ssl-cert", str(cert), "--ssl-key", str(key)], log_path=self.log_path)
        wait_for_http(self.url, self.process, log_path=self.log_path)
        return self

    def __exit__(self, *exc):
        stop_process(self.process)
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def self_signed_certificate(folder):
    """A one-day certificate for 127.0.0.1 (PEM files in `folder`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "moto-cert.pem", folder / "moto-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def job_progress_callback(total):
    """What mediamgr.jobs.ingest._transfer passes as `progress`: the operation's reporter, which
    publishes at most 10 events a second to the owner's Redis channel."""
    operation = SimpleNamespace(id=1, owner_id=1, kind="upload", title="bench", status="running",
                                stage="transferring", total=total, processed=0, failed=0, error=None, media_id=1,
                                current_item=None, cancel_requested=False, details={})
    reporter = ProgressReporter(operation)
    reporter.report()  # as the job does before the transfer starts

    def on_progress(done):
        reporter.report(must_deliver=False, stage="transferring", processed=done, total=total)

    return on_progress


def in_callers_context(callback):
    """The callback run in a copy of the caller's context (its Flask app context included), from
    whichever transfer thread calls it: the fix suggested for the job (see README.md)."""
    context = contextvars.copy_context()
    return lambda done: context.copy().run(callback, done)


def probe_job_callback(storage, payload, folder):
    """Does put_file work with the job's callback as the job passes it? None when it does, else the error."""
    probe = folder / "probe.bin"
    with open(payload, "rb") as source, open(probe, "wb") as target:
        shutil.copyfileobj(source, target, PROBE_MIB * MiB)
        target.truncate(PROBE_MIB * MiB)
    try:
        storage.put_file("probe", probe, "video/webm", job_progress_callback(PROBE_MIB * MiB))
        return None
    except Exception as error:  # whatever the job would have died of
        first_sentence = " ".join(str(error).split()).split(". ")[0]
        return f"{type(error).__name__}: {first_sentence[:160]}"
    finally:
        probe.unlink()
        storage.client.delete_object(Bucket=BUCKET, Key="probe")


def run(workspace, payload, report, rounds):
    folder = workspace.path("transfer")
    # The reporter publishes through the app's Redis settings, so the transfer runs in an app context.
    app = create_app(workspace.app_config(f"sqlite:///{folder / 'unused.sqlite3'}", "transfer"))
    with MotoServer(folder) as moto, app.app_context():
        raw = boto3.client("s3", endpoint_url=moto.url, **CREDENTIALS)
        raw.create_bucket(Bucket=BUCKET)
        ours = S3Storage(moto.url, BUCKET, CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"],
                         CREDENTIALS["region_name"])
        failure = probe_job_callback(ours, payload, folder)
        report.add(Check("S3 put_file with the upload job's progress callback", failure or "works",
                         "works", failure is None))
        if failure:
            report.note("The upload job's progress callback fails on S3 transfer threads (no app context): "
                        f"{failure}. The timings wrap it in the caller's context (the suggested fix).")
        rows = compare(ours, raw, payload, rounds, wrap_callback=bool(failure))
        attribution = attribute_gap(ours, raw, payload)
    _report(report, payload.stat().st_size, rows, attribution, failure)


def compare(ours, raw, payload, rounds, wrap_callback):
    """Alternate (a) put_file and (b) raw upload_file; objects are deleted at once to spare moto's memory."""
    size, rows = payload.stat().st_size, []
    for round_number in range(1, rounds + 1):
        callback = job_progress_callback(size)
        progress = in_callers_context(callback) if wrap_callback else callback
        ours_s = _timed(lambda: ours.put_file("ours", payload, "video/webm", progress))
        raw.delete_object(Bucket=BUCKET, Key="ours")
        raw_s = _timed(lambda: raw.upload_file(str(payload), BUCKET, "raw"))
        raw.delete_object(Bucket=BUCKET, Key="raw")
        rows.append({"ours_s": ours_s, "raw_s": raw_s, "ratio": raw_s / ours_s})
        print(f"  round {round_number}/{rounds}: ours {size / MiB / ours_s:,.0f} MiB/s, "
              f"raw boto3 {size / MiB / raw_s:,.0f} MiB/s ({raw_s / ours_s:.2f} ×)", flush=True)
    return rows


def _report(report, size, rows, attribution, failure):
    ratios = [row["ratio"] for row in rows]
    ours_rate = size / MiB / median([row["ours_s"] for row in rows])
    raw_rate = size / MiB / median([row["raw_s"] for row in rows])
    report.details["transfer"] = {"payload_bytes": size, "job_callback_error": failure, "rounds": rows,
                                  "attribution_mib_s": attribution}
    report.add(Check(f"S3 transfer of {size_text(size)}: put_file / raw boto3 upload_file",
                     f"median {median(ratios):.2f} ×, worst {min(ratios):.2f} × "
                     f"({ours_rate:,.0f} vs {raw_rate:,.0f} MiB/s)",
                     f"≥ {MIN_RATIO_TO_RAW} ×", median(ratios) >= MIN_RATIO_TO_RAW, {"ratios": ratios}))
    report.add(Check("S3 gap attribution (one transfer each)",
                     "; ".join(f"{name} {rate:,.0f} MiB/s" for name, rate in attribution.items())))


def attribute_gap(ours, raw, payload):
    """One more transfer each, crossing our client settings with boto3's default TransferConfig and
    the other way round, and our settings with boto3's default checksums (which B2 refuses), to show
    where a gap comes from (MiB/s, one sample each)."""
    checksums = ours.client.meta.config.merge(Config(request_checksum_calculation="when_supported",
                                                     response_checksum_validation="when_supported"))
    default_checksums = boto3.client("s3", endpoint_url=ours.endpoint_url, config=checksums, **CREDENTIALS)
    variants = {"our client + boto3's default TransferConfig":
                lambda: ours.client.upload_file(str(payload), BUCKET, "x", Config=TransferConfig()),
                "default client + our TRANSFER config":
                lambda: raw.upload_file(str(payload), BUCKET, "x", Config=TRANSFER),
                "our client and TRANSFER but boto3's default checksums":
                lambda: default_checksums.upload_file(str(payload), BUCKET, "x", Config=TRANSFER)}
    rates = {}
    for name, action in variants.items():
        rates[name] = payload.stat().st_size / MiB / _timed(action)
        raw.delete_object(Bucket=BUCKET, Key="x")
    return rates


def _timed(action):
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
