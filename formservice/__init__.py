"""formservice: the BUS routines in the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error pages and CLI."""
    from . import config as settings

    values = {**settings.from_environ(), **(config or {})}
    instance = values["FORMSERVICE_INSTANCE_PATH"]
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
        instance_relative_config=True,
        instance_path=str(Path(instance).resolve()) if instance else None,
    )
    app.config.update(values)
    settings.finalize(app.config, Path(app.instance_path))
    _trust_proxies(app)
    _init_operations(app)

    _init_extensions(app)
    app.url_map.converters["int"] = DatabaseId
    _register_blueprints(app)

    from .views.errors import register_error_handlers
    from .web import init_web

    register_error_handlers(app)
    init_web(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Take scheme, host, port and client address from the reverse proxies in front."""
    count = app.config["FORMSERVICE_TRUSTED_PROXIES"]
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count
        )


def _init_operations(app: Flask) -> None:
    """Logging for this process, then the request id and metrics of each request (first, so
    every other hook's log lines carry the id)."""
    from . import logs, metrics

    logs.configure(app.config["FORMSERVICE_LOG_FORMAT"])
    logs.init_app(app)
    metrics.init_app(app)


class DatabaseId(IntegerConverter):
    """`<int:…>` in URLs: only ids a database integer column can hold (else 404, not 500)."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = 2**31 - 1,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def _init_extensions(app: Flask) -> None:
    from . import (
        models,  # noqa: F401  (registers the tables)
        ratelimit,
        sign_on,
    )
    from .auth import init_login
    from .extensions import csrf, db

    db.init_app(app)
    csrf.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            from .sqlite import tune

            tune(db.engine)
    init_login(app)
    ratelimit.init_app(app)
    sign_on.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from .views import (
        accessibility,
        admin,
        auth,
        bus_individ,
        demo,
        deviations,
        digests,
        measures,
        meetings,
        ops,
        respond,
        sip,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(accessibility.bp)
    app.register_blueprint(deviations.bp)
    app.register_blueprint(respond.bp)
    app.register_blueprint(sip.bp)
    app.register_blueprint(bus_individ.bp)
    app.register_blueprint(digests.bp)
    app.register_blueprint(meetings.bp)
    from .views.feedback import bp as feedback_bp

    app.register_blueprint(feedback_bp)
    app.register_blueprint(measures.bp)
    from .views.statistics import bp as statistics_bp

    app.register_blueprint(statistics_bp)
    app.register_blueprint(ops.bp)
    if app.config["FORMSERVICE_DEMO"]:
        app.register_blueprint(demo.bp)
