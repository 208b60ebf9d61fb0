"""The sign-on settings (issue 15, item 1): defaults, and combinations that would leave nobody
able to log in stop the start."""

from __future__ import annotations

import pytest

from formservice.config import finalize, from_environ
from formservice.web import CSP, content_security_policy

ISSUER = "https://sso.kommun.example/realms/kommun"


def settled(tmp_path, **environ: str) -> dict:
    config = from_environ({f"FORMSERVICE_{key}": value for key, value in environ.items()})
    config["TESTING"] = True
    finalize(config, tmp_path)
    return config


def test_defaults(tmp_path):
    config = settled(tmp_path)
    assert config["FORMSERVICE_OIDC_ISSUER"] == ""
    assert config["FORMSERVICE_OIDC_SCOPES"] == "openid email profile"
    assert config["FORMSERVICE_OIDC_EMAIL_CLAIM"] == "email"
    assert config["FORMSERVICE_OIDC_ACR_VALUES"] == ""
    assert config["FORMSERVICE_PASSWORD_LOGIN"] is True
    assert config["FORMSERVICE_BREAK_GLASS"] == frozenset()
    assert config["FORMSERVICE_RESPONDER_LOGIN"] == ""


def test_a_configured_provider(tmp_path):
    config = settled(
        tmp_path,
        OIDC_ISSUER=ISSUER + "/",
        OIDC_CLIENT_ID="formservice",
        PASSWORD_LOGIN="false",
        BREAK_GLASS=" Ada@Stad.example , reserv@stad.example",
        RESPONDER_LOGIN="Required",
    )
    assert config["FORMSERVICE_OIDC_ISSUER"] == ISSUER  # no trailing slash
    assert config["FORMSERVICE_PASSWORD_LOGIN"] is False
    assert config["FORMSERVICE_BREAK_GLASS"] == {"ada@stad.example", "reserv@stad.example"}
    assert config["FORMSERVICE_RESPONDER_LOGIN"] == "required"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"OIDC_ISSUER": ISSUER}, "FORMSERVICE_OIDC_CLIENT_ID"),
        ({"OIDC_ISSUER": ISSUER, "OIDC_CLIENT_ID": "x", "OIDC_SCOPES": "email"}, "openid"),
        ({"PASSWORD_LOGIN": "false"}, "FORMSERVICE_OIDC_ISSUER"),
        ({"RESPONDER_LOGIN": "always"}, "FORMSERVICE_RESPONDER_LOGIN"),
    ],
)
def test_settings_that_do_not_hang_together_stop_the_start(tmp_path, environ, named):
    with pytest.raises(RuntimeError, match=named):
        settled(tmp_path, **environ)


def test_the_csp_lets_forms_lead_to_the_provider_only_with_sign_on():
    assert content_security_policy("") == CSP
    policy = content_security_policy(ISSUER)
    assert "form-action 'self' https://sso.kommun.example;" in policy
    assert "default-src 'self';" in policy
