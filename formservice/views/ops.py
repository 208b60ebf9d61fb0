"""Operations: liveness, readiness and metrics, for load balancers and monitoring.

`/healthz` and `/readyz` are public and say only ok or fail with a short reason per part.
`/metrics` answers only with `Authorization: Bearer <FORMSERVICE_METRICS_TOKEN>`; without the
setting, without the header or with a wrong token it is 404, as if it did not exist.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, current_app, jsonify, request

from .. import health, metrics

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers; nothing else is asked."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    checks = health.readiness(current_app._get_current_object())  # type: ignore[attr-defined]  # a LocalProxy, typed as Flask
    answer = health.report(checks)
    return jsonify(answer), 200 if answer["status"] == "ok" else 503


@bp.get("/metrics")
def prometheus() -> Response:
    if not _authorized():
        abort(404)
    collector = metrics.scrape_collector()
    body, content_type = metrics.exposition(collector, request.headers.get("Accept", ""))
    return Response(body, content_type=content_type)


def _authorized() -> bool:
    """The bearer token matches the setting (compared in constant time); never when unset."""
    token = current_app.config["FORMSERVICE_METRICS_TOKEN"]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())
