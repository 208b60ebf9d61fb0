"""The project's folders and the data every run starts from."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = ROOT / "docs"
DEMO_DIRECTORY = ROOT / "formservice" / "demo" / "directory.yaml"
