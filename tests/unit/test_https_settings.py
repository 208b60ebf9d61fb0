"""Settings for running behind HTTPS: secure cookies by default, trusted proxies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from formservice.config import finalize, from_environ

ROOT = Path(__file__).resolve().parents[2]


def settled(tmp_path, **environ: str) -> dict:
    config = from_environ({f"FORMSERVICE_{key}": value for key, value in environ.items()})
    config["TESTING"] = True
    finalize(config, tmp_path)
    return config


@pytest.mark.parametrize(
    ("base_url", "secure_cookies", "expected"),
    [
        ("https://bus.stad.example", "", True),
        ("HTTPS://bus.stad.example/", "", True),
        ("https://bus.stad.example", "false", False),  # an explicit value wins
        ("http://127.0.0.1:5000", "", False),
        ("http://127.0.0.1:5000", "true", True),
        ("", "", False),  # the default base URL is http
    ],
)
def test_secure_cookies_default_follows_the_base_url(tmp_path, base_url, secure_cookies, expected):
    config = settled(tmp_path, BASE_URL=base_url, SECURE_COOKIES=secure_cookies)
    assert config["SESSION_COOKIE_SECURE"] is expected
    assert config["FORMSERVICE_SECURE_COOKIES"] is expected


def test_trusted_proxies_default_to_zero(tmp_path):
    assert settled(tmp_path)["FORMSERVICE_TRUSTED_PROXIES"] == 0
    assert settled(tmp_path, TRUSTED_PROXIES="2")["FORMSERVICE_TRUSTED_PROXIES"] == 2
    with pytest.raises(RuntimeError, match="FORMSERVICE_TRUSTED_PROXIES"):
        settled(tmp_path, TRUSTED_PROXIES="-1")


def test_nginx_site_takes_the_largest_request_the_service_takes(tmp_path):
    """deploy/nginx/formservice.conf's client_max_body_size is the app's MAX_CONTENT_LENGTH."""
    site = (ROOT / "deploy" / "nginx" / "formservice.conf").read_text(encoding="utf-8")
    (size,) = re.findall(r"^\s*client_max_body_size\s+(\d+)m;", site, flags=re.MULTILINE)
    assert int(size) * 1024 * 1024 == settled(tmp_path)["MAX_CONTENT_LENGTH"]
