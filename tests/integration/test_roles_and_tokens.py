"""Who may do what, through API Gateway with real Cognito tokens: each role x method, each kind of token, and a grant
or revocation (`make editor`) taking effect with the next ID token, as the README says."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from bootstrap.access import ROOT, outputs
from tests.clients import Api, User, cognito, confirmed_user, sign_in
from tests.integration.conftest import album
from tests.support import free_rank

EDITORS = "editors"


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def as_reader(user: User) -> User:
    """The user taken out of `editors` (as `make editor REVOKE=1` does), signed in again for a token that says so."""
    cognito().admin_remove_user_from_group(UserPoolId=outputs()["UserPoolId"], Username=user.username,
                                           GroupName=EDITORS)
    return sign_in(user)


def with_token(token: str) -> Api:
    api = Api(None)
    api.http.headers["Authorization"] = token
    return api


def assert_cors(response: requests.Response) -> None:
    assert response.headers.get("Access-Control-Allow-Origin"), response.headers


@pytest.fixture(scope="module")
def editor(stack: dict) -> User:
    return confirmed_user("editor")


@pytest.fixture(scope="module")
def reader(stack: dict) -> User:
    return as_reader(confirmed_user("reader"))


@pytest.fixture
def stored(editor: User) -> Iterator[dict]:
    """An album of the editor's, at a free rank; removed afterwards."""
    api = Api(editor)
    rank = free_rank(api)
    response = api.post(album(rank))
    assert response.status_code == 201, response.text
    yield response.json()
    api.delete(rank)


def test_a_new_local_user_is_an_editor_from_the_first_token(editor: User) -> None:
    """The stack's PostConfirmation trigger (NewUsersAreEditors, on for the emulators) ran before the first sign-in."""
    assert EDITORS in claims(editor.id_token)["cognito:groups"]


# ---- roles x methods ----------------------------------------------------------------------------------------------


def test_an_editor_creates_reads_changes_and_deletes(editor: User) -> None:
    api = Api(editor)
    rank = free_rank(api)
    assert api.post(album(rank)).status_code == 201
    assert api.get(rank=rank).status_code == 200
    assert api.put(rank, {"Year": 2001, "version": 1}).status_code == 200
    assert api.delete(rank, version=2).status_code == 204


def test_a_reader_reads_one_album_pages_and_the_stats(reader: User, stored: dict) -> None:
    api = Api(reader)
    assert api.get(rank=stored["Rank"]).json() == stored
    page = api.get(limit=3)
    assert page.status_code == 200 and len(page.json()["items"]) == 3
    stats = api.http.get(api.url + "/stats", timeout=30)
    assert stats.status_code == 200 and stats.json()["total"] >= 500


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_a_readers_write_is_403_with_cors_and_changes_nothing(reader: User, stored: dict, method: str) -> None:
    api = Api(reader)
    rank = stored["Rank"]
    response = {
        "POST": lambda: api.post(album(free_rank(api))),
        "PUT": lambda: api.put(rank, {"Album": "Taken over", "version": 1}),
        "DELETE": lambda: api.delete(rank),
    }[method]()

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert_cors(response)
    assert api.get(rank=rank).json() == stored


# ---- kinds of token -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_client_user(stack: dict) -> Iterator[User]:
    """A user signed in through a second app client of the same pool (as another app would be)."""
    pool_id = stack["UserPoolId"]
    client_id = cognito().create_user_pool_client(
        UserPoolId=pool_id, ClientName="another-app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    user = confirmed_user("otherapp")
    result = cognito().initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                     AuthParameters={"USERNAME": user.username, "PASSWORD": user.password})
    user.tokens = result["AuthenticationResult"]
    user.id_token = user.tokens["IdToken"]
    yield user
    cognito().delete_user_pool_client(UserPoolId=pool_id, ClientId=client_id)


def requests_of(api: Api, rank: int) -> dict[str, requests.Response]:
    return {
        "GET": api.get(rank=rank),
        "GET /stats": api.http.get(api.url + "/stats", timeout=30),
        "POST": api.post(album(rank + 1)),
        "PUT": api.put(rank, {"Album": "Overwritten", "version": 1}),
        "DELETE": api.delete(rank),
    }


@pytest.mark.parametrize("kind", ["AccessToken", "RefreshToken"])
def test_access_and_refresh_tokens_are_not_credentials(editor: User, stored: dict, kind: str) -> None:
    answers = requests_of(with_token(editor.tokens[kind]), stored["Rank"])

    assert {method: response.status_code for method, response in answers.items()} == dict.fromkeys(answers, 401)
    for response in answers.values():
        assert_cors(response)
    assert Api(editor).get(rank=stored["Rank"]).json() == stored


def test_another_clients_id_token_is_not_a_credential(other_client_user: User, stored: dict) -> None:
    assert claims(other_client_user.id_token)["aud"] != outputs()["UserPoolClientId"]
    answers = requests_of(with_token(other_client_user.id_token), stored["Rank"])
    assert {method: response.status_code for method, response in answers.items()} == dict.fromkeys(answers, 401)


def test_a_refresh_token_is_refused_after_global_sign_out_and_after_revocation(stack: dict) -> None:
    client_id = stack["UserPoolClientId"]
    first = confirmed_user("signout")
    refresh = first.tokens["RefreshToken"]
    cognito().revoke_token(Token=refresh, ClientId=client_id)
    with pytest.raises(cognito().exceptions.NotAuthorizedException):
        cognito().initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                AuthParameters={"REFRESH_TOKEN": refresh})
    second = sign_in(first)
    cognito().global_sign_out(AccessToken=second.tokens["AccessToken"])
    with pytest.raises(cognito().exceptions.NotAuthorizedException):
        cognito().initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                AuthParameters={"REFRESH_TOKEN": second.tokens["RefreshToken"]})
    assert with_token(second.tokens["RefreshToken"]).get(limit=1).status_code == 401


def test_an_id_token_outlives_its_deleted_account_until_it_expires(stack: dict) -> None:
    """What the README says: the authorizer checks signature and expiry, not whether the account still exists, so an
    ID token works for the rest of its lifetime (IdTokenValidity: 15 minutes) after a deletion; refreshing fails."""
    user = confirmed_user("deleted")
    cognito().delete_user(AccessToken=user.tokens["AccessToken"])

    assert Api(user).get(limit=1).status_code == 200
    token = claims(user.id_token)
    assert token["exp"] - token["iat"] == 15 * 60
    with pytest.raises(cognito().exceptions.NotAuthorizedException):
        cognito().initiate_auth(ClientId=stack["UserPoolClientId"], AuthFlow="REFRESH_TOKEN_AUTH",
                                AuthParameters={"REFRESH_TOKEN": user.tokens["RefreshToken"]})


# ---- make editor: a change takes effect with the next ID token -------------------------------------------------------


def make_editor(login: str, *, revoke: bool = False) -> subprocess.CompletedProcess[str]:
    """What `make editor USER=<login> [REVOKE=1]` runs, against this stack (PORT / STACK_DIR from the environment)."""
    command = [sys.executable, "-m", "bootstrap.editor", *(["--revoke"] if revoke else []), "--", login]
    return subprocess.run(command, cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=60)


def test_make_editor_grants_and_revokes_from_the_next_token(stack: dict) -> None:
    user = as_reader(confirmed_user("promoted"))
    reader_token = user.id_token

    granted = make_editor(user.email.upper())  # the e-mail, as a person might type it; or the username
    assert granted.returncode == 0, granted.stderr
    assert "is an editor now" in granted.stdout and "15 minutes" in granted.stdout
    api = Api(user)
    rank = free_rank(api)
    assert with_token(reader_token).post(album(rank)).status_code == 403  # the old token still says "reader"
    assert Api(sign_in(user)).post(album(rank)).status_code == 201
    editor_token = user.id_token

    revoked = make_editor(user.username, revoke=True)
    assert revoked.returncode == 0, revoked.stderr
    assert "is a reader now" in revoked.stdout
    assert Api(sign_in(user)).put(rank, {"Year": 2002, "version": 1}).status_code == 403
    # The token from before the revocation still edits until it expires: the figure the README gives.
    assert with_token(editor_token).delete(rank).status_code == 204


def test_make_editor_names_what_it_cannot_find(stack: dict) -> None:
    result = make_editor("nobody-at-all-here")
    assert result.returncode == 1
    assert "no user 'nobody-at-all-here'" in result.stderr
    again = make_editor(confirmed_user("twice").username)
    assert again.returncode == 0 and "editor already: nothing changed" in again.stdout
