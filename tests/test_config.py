"""Settings: defaults that need nothing, and a message naming the variable when one is wrong."""
import pytest

from mediamgr.config import ConfigError, _parse_quota, load_config


def test_defaults_need_nothing(tmp_path):
    config = load_config(tmp_path, env={})
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["REDIS_URL"] is None and config["STORAGE_BACKEND"] == "local"
    assert config["MAX_UPLOAD_BYTES"] == 5 * 1024**3 and config["SIGNED_URL_TTL"] == 1800


def test_secret_key_is_generated_once_and_kept(tmp_path):
    assert load_config(tmp_path, env={})["SECRET_KEY"] == load_config(tmp_path, env={})["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("env, variable", [
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
    ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND"),
    ({"STORAGE_BACKEND": "s3"}, "S3_ENDPOINT_URL"),
    ({"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": "https://s3.eu-central-003.backblazeb2.com"}, "S3_BUCKET"),
    ({"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": "not a url", "S3_BUCKET": "b", "S3_ACCESS_KEY_ID": "k",
      "S3_SECRET_ACCESS_KEY": "s"}, "S3_ENDPOINT_URL"),
    ({"MAX_UPLOAD_BYTES": "lots"}, "MAX_UPLOAD_BYTES"),
    ({"MAX_UPLOAD_BYTES": "0"}, "MAX_UPLOAD_BYTES"),
    ({"SIGNED_URL_TTL": "-5"}, "SIGNED_URL_TTL"),
    ({"CDN_BASE_URL": "cdn.example.com"}, "CDN_BASE_URL"),
    ({"REGISTRATION_OPEN": "maybe"}, "REGISTRATION_OPEN"),
])
def test_malformed_settings_name_the_variable(tmp_path, env, variable):
    with pytest.raises(ConfigError, match=variable):
        load_config(tmp_path, env=env)


def test_sizes_take_units_and_b2_endpoints_give_their_region(tmp_path):
    config = load_config(tmp_path, env={
        "MAX_UPLOAD_BYTES": "500MB", "STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": "https://s3.us-west-004.backblazeb2.com",
        "S3_BUCKET": "course-media", "S3_ACCESS_KEY_ID": "id", "S3_SECRET_ACCESS_KEY": "secret",
        "DATABASE_URL": "postgresql://u:p@db/mediamgr"})
    assert config["MAX_UPLOAD_BYTES"] == 500 * 1024**2
    assert config["S3_REGION"] == "us-west-004"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/mediamgr"


def test_a_bad_setting_stops_make_run_with_a_message(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, INSTANCE_PATH=str(tmp_path), MAX_UPLOAD_BYTES="lots", REDIS_URL="redis://127.0.0.1:1/0")
    result = subprocess.run([sys.executable, "-m", "mediamgr.runner"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "MAX_UPLOAD_BYTES" in result.stderr and "Traceback" not in result.stderr


def test_default_quota_is_typed_like_any_quota():
    assert _parse_quota("") is None and _parse_quota("unlimited") is None
    assert _parse_quota("10GB") == 10 * 10**9 and _parse_quota("2GiB") == 2 * 2**30
    with pytest.raises(ConfigError, match="DEFAULT_QUOTA_BYTES"):
        _parse_quota("a lot")
