"""Alembic driven from code: the migrations live in formservice/migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(revision: str = "head") -> None:
    """Create or migrate the app's database (call inside the app context)."""
    command.upgrade(alembic_config(), revision)
