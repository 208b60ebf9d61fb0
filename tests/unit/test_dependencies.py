"""The declared dependencies keep out versions with known vulnerabilities."""

from __future__ import annotations

import tomllib
from importlib.metadata import version

from packaging.requirements import Requirement

from tests.support.paths import ROOT

#: The last pypdf release before the newest denial-of-service fixes identified (7.0.0: limits
#: on XFA decoding work and image sizes, object-stream offsets; 6.x: CVE-2025-55197 and the
#: GHSA advisories on crafted streams, fixed from 6.0.0 up to 6.21.4).
LAST_VULNERABLE_PYPDF = "6.21.4"


def requirement(name: str) -> Requirement:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == name]
    assert len(found) == 1, name
    return found[0]


def test_pypdf_versions_with_known_denial_of_service_are_not_admitted():
    pypdf = requirement("pypdf")
    for vulnerable in ("5.9.0", "6.0.0", "6.14.2", LAST_VULNERABLE_PYPDF):
        assert vulnerable not in pypdf.specifier, vulnerable
    assert version("pypdf") in pypdf.specifier  # what the tests run with is a fixed one
