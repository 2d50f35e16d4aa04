"""Every method is behind the Cognito authorizer, and every answer (errors too) is readable cross-origin."""

import base64

import pytest
import requests

from bootstrap.access import outputs
from tests.clients import Api

METHODS = ["GET", "POST", "PUT", "DELETE"]
ROUTES = [*((method, "") for method in METHODS), ("GET", "/stats")]  # paths below the Api client's /album


def assert_cors(response: requests.Response) -> None:
    # The one origin the stack allows: the site's (locally the emulator's own address), never "*".
    assert response.headers.get("Access-Control-Allow-Origin") == outputs()["SiteOrigin"], response.headers


@pytest.mark.parametrize(("method", "below"), ROUTES)
def test_no_token_is_401_with_cors(anonymous: Api, method: str, below: str) -> None:
    response = anonymous.http.request(method, anonymous.url + below, params={"rank": 1}, timeout=30)
    assert response.status_code == 401
    assert_cors(response)


@pytest.mark.parametrize("token", ["garbage", "Bearer x.y.z"])
def test_garbage_token_is_refused(anonymous: Api, token: str) -> None:
    response = anonymous.http.get(anonymous.url, headers={"Authorization": token}, timeout=30)
    assert response.status_code in {401, 403}
    assert_cors(response)


def test_tampered_token_is_refused(api: Api, user) -> None:
    header, payload, signature = user.id_token.split(".")
    tampered = ".".join([header, payload[:-4] + ("AAAA" if not payload.endswith("AAAA") else "BBBB"), signature])
    response = api.http.get(api.url, headers={"Authorization": tampered}, timeout=30)
    assert response.status_code in {401, 403}


@pytest.mark.parametrize(("method", "below"), ROUTES)
def test_preflight_needs_no_token(anonymous: Api, method: str, below: str) -> None:
    response = anonymous.http.options(anonymous.url + below, timeout=30, headers={
        "Access-Control-Request-Method": method, "Access-Control-Request-Headers": "authorization,content-type"})
    assert response.status_code == 200
    assert_cors(response)
    assert method in response.headers["Access-Control-Allow-Methods"]
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_errors_from_the_function_carry_cors(api: Api) -> None:
    for response in (api.get(rank=999_999_999), api.get(rank=987_654), api.post({"Rank": "x"})):
        assert 400 <= response.status_code < 500
        assert_cors(response)
        assert response.json()["error"]["code"]


def test_token_signed_by_another_key_is_refused(anonymous: Api, user) -> None:
    """Same header (kid) and claims as a real ID token, but signed with a key that is not the pool's."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    header, payload, _ = user.id_token.split(".")
    foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = foreign_key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    forged = f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    response = anonymous.http.get(anonymous.url, headers={"Authorization": forged}, timeout=30)
    assert response.status_code == 401
    assert_cors(response)
