"""deploy/systemd: the units load cleanly (`systemd-analyze verify`) and are hardened.

`systemd-analyze verify` reads unit files without a running systemd (this works in a
container whose PID 1 is not systemd), but it checks that ExecStart's program exists: the
test verifies copies whose ExecStart points at this checkout's installed `formservice`
script instead of /opt/formservice/.venv/bin/formservice, and nothing else changed.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/formservice/.venv/bin/formservice"
NAMES = ["formservice-web.service", "formservice-worker@.service"]


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if not found:
        pytest.fail("systemd-analyze is missing: install Debian's systemd package")
    return found


def local_copies(folder: Path) -> list[Path]:
    """The units with ExecStart on this checkout's `formservice` (each has exactly one)."""
    script = Path(sys.executable).parent / "formservice"
    assert script.exists(), script
    copies = []
    for name in NAMES:
        source = (UNITS / name).read_text(encoding="utf-8")
        assert source.count(INSTALLED) == 1, name
        (folder / name).write_text(source.replace(INSTALLED, str(script)), encoding="utf-8")
        copies.append(folder / name)
    return copies


def verify(units: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [systemd_analyze(), "verify", *map(str, units)],
        cwd=units[0].parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    result = verify(local_copies(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # warnings too (unknown keys, ...)


def test_verify_catches_a_broken_unit(tmp_path):
    """The check above can fail: a misspelt key is reported, a missing program fails."""
    web, worker = local_copies(tmp_path)
    web.write_text(web.read_text().replace("NoNewPrivileges=", "NoNewPrivilege="))
    assert "Unknown key" in verify([web]).stderr
    worker.write_text(worker.read_text().replace("/formservice worker", "/no-such-program worker"))
    assert verify([worker]).returncode != 0


def settings(name: str) -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(UNITS / name, encoding="utf-8")
    return dict(parser["Service"])


@pytest.mark.parametrize("name", NAMES)
def test_the_units_are_hardened(name, tmp_path):
    service = settings(name)
    expected = {
        "User": "formservice",
        "Group": "formservice",
        "EnvironmentFile": "/etc/formservice/env",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "Restart": "on-failure",
        "CapabilityBoundingSet": "",
    }
    assert {key: service.get(key) for key in expected} == expected
    assert re.fullmatch(
        r"/opt/formservice/\.venv/bin/formservice (web|worker)\b.*", service["ExecStart"]
    )
    # systemd's own score of the sandbox: 0 (locked down) to 10 (exposed); 2.0 at most here
    (copy,) = [c for c in local_copies(tmp_path) if c.name == name]
    score = subprocess.run(
        [systemd_analyze(), "security", "--offline=yes", "--threshold=20", str(copy)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert score.returncode == 0, score.stdout[-2000:] + score.stderr


def test_the_web_unit_listens_where_nginx_sends():
    upstream = "127.0.0.1:8000"
    assert "--host 127.0.0.1 --port 8000" in settings("formservice-web.service")["ExecStart"]
    nginx = (ROOT / "deploy" / "nginx" / "formservice.conf").read_text(encoding="utf-8")
    assert (
        f"@UPSTREAM@      where `formservice web --host 127.0.0.1 --port 8000` listens: {upstream}"
        in nginx
    )
