"""Alembic environment: runs inside the app context, on the app's database."""

from alembic import context
from flask import current_app
from sqlalchemy.engine import Connection

from formservice.extensions import db


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        with db.engine.connect() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=db.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


assert current_app, "migrations run inside the app context"
run_migrations()
