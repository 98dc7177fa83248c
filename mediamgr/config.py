"""Settings from the environment, checked once at start.

Every setting has an embedded default so that `make run` needs nothing; a malformed
value stops the start with a message naming the variable (ConfigError).
"""
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlparse

from . import parsing


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


MAX_PRESIGNED_DAYS = 7  # SigV4: a presigned URL expires within a week
GiB = 1024**3
MiB = 1024**2
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2,
               "mib": 1024**2, "g": GiB, "gb": GiB, "gib": GiB, "t": 1024**4, "tb": 1024**4, "tib": 1024**4}


def parse_size(name, raw):
    """'5368709120', '5GiB' or '500 MB' -> bytes (binary units)."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", raw)
    unit = match and match.group(2).lower()
    if not match or unit not in _SIZE_UNITS:
        raise ConfigError(f"{name} must be a size in bytes such as 5368709120 or 5GiB, got {raw!r}")
    value = int(match.group(1)) * _SIZE_UNITS[unit]
    if value <= 0:
        raise ConfigError(f"{name} must be greater than zero, got {raw!r}")
    return value


def _parse_quota(raw):
    """DEFAULT_QUOTA_BYTES: typed like a quota on /admin or with `flask quota` (decimal units, 10GB is
    10,000,000,000 bytes); unset or "unlimited" for none."""
    if not raw.strip() or raw.strip().lower() == "unlimited":
        return None
    size = parsing.parse_size(raw)
    if not size:
        raise ConfigError(f"DEFAULT_QUOTA_BYTES must be a size such as 10GB or 500MB, got {raw!r}")
    return size


def parse_bool(name, raw):
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def parse_count(name, raw):
    if not raw.strip().isascii() or not raw.strip().isdigit():
        raise ConfigError(f"{name} must be a whole number (0 or more), got {raw!r}")
    return int(raw)


def parse_positive_int(name, raw):
    if not raw.strip().isascii() or not raw.strip().isdigit() or int(raw) <= 0:
        raise ConfigError(f"{name} must be a whole number greater than zero, got {raw!r}")
    return int(raw)


def _check_database_url(url):
    scheme = urlparse(url).scheme
    if scheme == "postgres":
        url = "postgresql+psycopg" + url[len("postgres"):]
    elif scheme == "postgresql":
        url = "postgresql+psycopg" + url[len("postgresql"):]
    elif not (scheme.startswith("sqlite") or scheme.startswith("postgresql+")):
        raise ConfigError(f"DATABASE_URL must be a sqlite:/// or postgresql:// URL, got {url!r}")
    return url


def engine_options(url, timeout):
    """How long a request waits for the database before it is told the database is unavailable:
    SQLite's busy wait, PostgreSQL's connect timeout. Pooled connections are checked before use, so
    the app reconnects by itself after the database restarts."""
    if url.startswith("sqlite"):
        return {"pool_pre_ping": True, "connect_args": {"timeout": timeout}}
    return {"pool_pre_ping": True, "connect_args": {"connect_timeout": timeout}}


def _check_socket_url(url):
    """Where pages open the progress websocket when another process serves it: ws:// or wss://."""
    if url and not re.fullmatch(r"wss?://[^/\s]+/\S*", url):
        raise ConfigError(f"PROGRESS_SOCKET_URL must be a ws:// or wss:// URL such as ws://127.0.0.1:5001/ws/progress, "
                          f"got {url!r}")
    return url or None


def _check_redis_url(url):
    if urlparse(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"REDIS_URL must be a redis://, rediss:// or unix:// URL, got {url!r}")
    return url


def _check_http_url(name, url):
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name} must be an http:// or https:// URL, got {url!r}")
    return url.rstrip("/")


def parse_rate(name, raw):
    """'10 per 15 minutes', '5/hour' (the limits library's notation)."""
    from limits import parse_many

    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a rate such as '10 per 15 minutes', got {raw!r}") from None
    return raw


def _hash_method(raw):
    """werkzeug's notation: 'scrypt' (n=2**15, r=8, p=1), 'scrypt:65536:8:1' or 'pbkdf2:sha256:600000'."""
    from werkzeug.security import generate_password_hash

    try:
        generate_password_hash("check", method=raw)
    except (ValueError, TypeError):
        raise ConfigError(f"PASSWORD_HASH_METHOD must be a werkzeug hash method such as scrypt, got {raw!r}") from None
    return raw


def _origin(name, url):
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.path not in ("", "/"):
        raise ConfigError(f"{name} must be an origin such as https://media.example.edu, got {url!r}")
    return f"{parsed.scheme}://{parsed.netloc}".lower()


def _origins(env):
    """Where the app's pages are served from: PUBLIC_URL and ALLOWED_ORIGINS, else the address
    `make run` binds (with localhost and 127.0.0.1 both)."""
    public = _origin("PUBLIC_URL", env["PUBLIC_URL"].strip()) if env.get("PUBLIC_URL", "").strip() else None
    extra = [_origin("ALLOWED_ORIGINS", part.strip()) for part in env.get("ALLOWED_ORIGINS", "").split(",") if part.strip()]
    if public or extra:
        return public, list(dict.fromkeys(([public] if public else []) + extra))
    bind = env.get("BIND") or f"127.0.0.1:{env.get('PORT', '5000')}"
    host, _, port = bind.rpartition(":")
    hosts = ["127.0.0.1", "localhost"] if host in ("127.0.0.1", "localhost", "0.0.0.0", "") else [host]
    return None, [f"http://{name}:{port}" for name in hosts]


def _secret_key(instance_path):
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    key_file = Path(instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _s3_settings(env):
    settings = {}
    for name in ("S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
        value = env.get(name, "").strip()
        if not value:
            raise ConfigError(f"{name} is required when STORAGE_BACKEND=s3")
        settings[name] = value
    settings["S3_ENDPOINT_URL"] = _check_http_url("S3_ENDPOINT_URL", settings["S3_ENDPOINT_URL"])
    region = env.get("S3_REGION", "").strip()
    if not region:
        # B2 endpoints name their region: https://s3.us-west-004.backblazeb2.com
        match = re.match(r"s3\.([a-z0-9-]+)\.backblazeb2\.com", urlparse(settings["S3_ENDPOINT_URL"]).netloc)
        region = match.group(1) if match else "us-east-1"
    settings["S3_REGION"] = region
    return settings


def _transcribe_backend(value):
    value = value.strip()
    if value and value != "faster-whisper" and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", value):
        raise ConfigError(f"TRANSCRIBE_BACKEND must be empty, faster-whisper or module:function, got {value!r}")
    return value


def load_config(instance_path, env=None):
    """Read and check every setting; returns a dict for app.config."""
    env = os.environ if env is None else env
    instance_path = Path(instance_path)
    config = {
        "SQLALCHEMY_DATABASE_URI": _check_database_url(
            env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'mediamgr.sqlite3'}"),
        "REDIS_URL": _check_redis_url(env["REDIS_URL"]) if env.get("REDIS_URL") else None,
        "REDIS_NAMESPACE": env.get("REDIS_NAMESPACE", "mediamgr"),
        "STORAGE_BACKEND": env.get("STORAGE_BACKEND", "local").strip().lower(),
        "STORAGE_ROOT": env.get("STORAGE_ROOT") or str(instance_path / "storage"),
        "STAGING_DIR": env.get("STAGING_DIR") or str(instance_path / "staging"),
        "CDN_BASE_URL": _check_http_url("CDN_BASE_URL", env["CDN_BASE_URL"]) if env.get("CDN_BASE_URL") else None,
        "MAX_UPLOAD_BYTES": parse_size("MAX_UPLOAD_BYTES", env.get("MAX_UPLOAD_BYTES", str(5 * GiB))),
        "DEFAULT_QUOTA_BYTES": _parse_quota(env.get("DEFAULT_QUOTA_BYTES", "")),
        "DATABASE_TIMEOUT": parse_positive_int("DATABASE_TIMEOUT", env.get("DATABASE_TIMEOUT", "10")),
        "STAGING_RESERVE_BYTES": parse_size("STAGING_RESERVE_BYTES", env.get("STAGING_RESERVE_BYTES", "512MiB")),
        "PROGRESS_SOCKETS_PER_USER": parse_positive_int("PROGRESS_SOCKETS_PER_USER",
                                                        env.get("PROGRESS_SOCKETS_PER_USER", "8")),
        "RESUMABLE_UPLOADS_PER_USER": parse_positive_int("RESUMABLE_UPLOADS_PER_USER",
                                                         env.get("RESUMABLE_UPLOADS_PER_USER", "20")),
        "RESUMABLE_RESERVED_BYTES": parse_size("RESUMABLE_RESERVED_BYTES", env.get("RESUMABLE_RESERVED_BYTES", "20GiB")),
        "PROGRESS_SOCKET_URL": _check_socket_url(env.get("PROGRESS_SOCKET_URL", "").strip()),
        "PROGRESS_SOCKET_PORT": parse_count("PROGRESS_SOCKET_PORT", env.get("PROGRESS_SOCKET_PORT", "0")) or None,
        "MAX_IMAGE_PIXELS": parse_positive_int("MAX_IMAGE_PIXELS", env.get("MAX_IMAGE_PIXELS", "100000000")),
        "JOB_MEMORY_LIMIT_BYTES": parse_size("JOB_MEMORY_LIMIT_BYTES", env.get("JOB_MEMORY_LIMIT_BYTES", "3GiB")),
        "SIGNED_URL_TTL": parse_positive_int("SIGNED_URL_TTL", env.get("SIGNED_URL_TTL", "1800")),
        "BULK_BATCH_SIZE": parse_positive_int("BULK_BATCH_SIZE", env.get("BULK_BATCH_SIZE", "500")),
        "EXPORT_IN_BACKGROUND_ABOVE": parse_positive_int("EXPORT_IN_BACKGROUND_ABOVE",
                                                         env.get("EXPORT_IN_BACKGROUND_ABOVE", "10000")),
        # A selection's zip is streamed at once up to this many files and bytes; a larger one is
        # written by a worker and offered in the Activity panel (archive/).
        "ARCHIVE_STREAM_MAX_FILES": parse_positive_int("ARCHIVE_STREAM_MAX_FILES",
                                                       env.get("ARCHIVE_STREAM_MAX_FILES", "200")),
        "ARCHIVE_STREAM_MAX_BYTES": parse_size("ARCHIVE_STREAM_MAX_BYTES", env.get("ARCHIVE_STREAM_MAX_BYTES", "1GiB")),
        # How long a prepared download (a background export, a large zip) can be fetched.
        "PREPARED_DOWNLOAD_HOURS": parse_positive_int("PREPARED_DOWNLOAD_HOURS",
                                                      env.get("PREPARED_DOWNLOAD_HOURS", "24")),
        # How long a file's "Copy link" address works (S3 and B2 sign for 7 days at most).
        "SHARE_LINK_DAYS": parse_positive_int("SHARE_LINK_DAYS", env.get("SHARE_LINK_DAYS", "7")),
        "BULK_STALE_SECONDS": parse_positive_int("BULK_STALE_SECONDS", env.get("BULK_STALE_SECONDS", "30")),
        "MAINTENANCE_INTERVAL": parse_positive_int("MAINTENANCE_INTERVAL", env.get("MAINTENANCE_INTERVAL", "30")),
        "TRASH_RETENTION_DAYS": parse_positive_int("TRASH_RETENTION_DAYS", env.get("TRASH_RETENTION_DAYS", "30")),
        "RESUMABLE_THRESHOLD_BYTES": parse_size("RESUMABLE_THRESHOLD_BYTES",
                                                env.get("RESUMABLE_THRESHOLD_BYTES", str(20 * 1000 * 1000))),
        "RESUMABLE_CHUNK_BYTES": parse_size("RESUMABLE_CHUNK_BYTES", env.get("RESUMABLE_CHUNK_BYTES", str(64 * MiB))),
        "UPLOAD_EXPIRY_HOURS": parse_positive_int("UPLOAD_EXPIRY_HOURS", env.get("UPLOAD_EXPIRY_HOURS", "24")),
        "REGISTRATION_OPEN": parse_bool("REGISTRATION_OPEN", env.get("REGISTRATION_OPEN", "true")),
        "REMEMBER_DAYS": parse_positive_int("REMEMBER_DAYS", env.get("REMEMBER_DAYS", "30")),
        "SESSION_IDLE_HOURS": parse_positive_int("SESSION_IDLE_HOURS", env.get("SESSION_IDLE_HOURS", "12")),
        "RATE_LIMIT_LOGIN_ACCOUNT": parse_rate("RATE_LIMIT_LOGIN_ACCOUNT",
                                               env.get("RATE_LIMIT_LOGIN_ACCOUNT", "10 per 15 minutes")),
        "RATE_LIMIT_LOGIN_ACCOUNT_ANYWHERE": parse_rate("RATE_LIMIT_LOGIN_ACCOUNT_ANYWHERE",
                                                        env.get("RATE_LIMIT_LOGIN_ACCOUNT_ANYWHERE", "100 per hour")),
        "RATE_LIMIT_LOGIN_IP": parse_rate("RATE_LIMIT_LOGIN_IP", env.get("RATE_LIMIT_LOGIN_IP", "30 per 15 minutes")),
        "RATE_LIMIT_REGISTER": parse_rate("RATE_LIMIT_REGISTER", env.get("RATE_LIMIT_REGISTER", "10 per hour")),
        "RATE_LIMIT_PASSWORD": parse_rate("RATE_LIMIT_PASSWORD", env.get("RATE_LIMIT_PASSWORD", "5 per 15 minutes")),
        "TRUSTED_PROXIES": parse_count("TRUSTED_PROXIES", env.get("TRUSTED_PROXIES", "0")),
        "PASSWORD_HASH_METHOD": _hash_method(env.get("PASSWORD_HASH_METHOD", "scrypt")),
        # Automatic captions (captions.transcribe): unset (off), "faster-whisper" (the optional extra
        # `pip install 'mediamgr[transcribe]'`, which fetches TRANSCRIBE_MODEL on first use) or a
        # "module:function" of your own.
        "TRANSCRIBE_BACKEND": _transcribe_backend(env.get("TRANSCRIBE_BACKEND", "")),
        "TRANSCRIBE_MODEL": env.get("TRANSCRIBE_MODEL", "small").strip() or "small",
        # A video or audio file that browsers cannot play gets a web rendition after upload (video.processing).
        "AUTO_WEB_RENDITION": parse_bool("AUTO_WEB_RENDITION", env.get("AUTO_WEB_RENDITION", "true")),
        "SECRET_KEY": env.get("SECRET_KEY") or _secret_key(instance_path),
    }
    config["PUBLIC_URL"], config["APP_ORIGINS"] = _origins(env)
    https = (config["PUBLIC_URL"] or "").startswith("https://")
    config["PREFERRED_URL_SCHEME"] = "https" if https else "http"
    config["SESSION_COOKIE_SECURE"] = parse_bool("SESSION_COOKIE_SECURE", env.get("SESSION_COOKIE_SECURE", str(https)))
    if config["STORAGE_BACKEND"] == "s3":
        config.update(_s3_settings(env))
        if config["SHARE_LINK_DAYS"] > MAX_PRESIGNED_DAYS:
            raise ConfigError(f"SHARE_LINK_DAYS must be at most {MAX_PRESIGNED_DAYS} with STORAGE_BACKEND=s3 "
                              f"(an S3 or B2 signed address lives 7 days at most), got {config['SHARE_LINK_DAYS']}")
    elif config["STORAGE_BACKEND"] != "local":
        raise ConfigError(f"STORAGE_BACKEND must be local or s3, got {config['STORAGE_BACKEND']!r}")
    return config
