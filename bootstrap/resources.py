"""The names and shapes of everything the bootstrap makes, in one place."""

from __future__ import annotations

from dataclasses import dataclass

# CORS is defined once, by the functions; the gateway's preflight and error responses repeat their answer.
from albums.http import CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS

USER_POOL = "projectpool"
USER_POOL_CLIENT = "projectpool-web"
REST_API = "testproject"
RESOURCE_PATH = "album"
AUTHORIZER = "projectpool-authorizer"
ALLOWED_HEADERS = CORS_ALLOW_HEADERS
ALLOWED_METHODS = CORS_ALLOW_METHODS
BUCKET = "testprotest"
TABLE = "Albums"


@dataclass(frozen=True)
class Function:
    method: str
    name: str
    handler: str
    # Least privilege: each function may do only what its method needs on the Albums table.
    table_actions: tuple[str, ...]


FUNCTIONS = (
    # GetItem: the directory and one album; BatchGetItem: the catalog items that changed and a page's albums.
    Function("GET", "albums-get", "albums.handlers.get.handler", ("dynamodb:GetItem", "dynamodb:BatchGetItem")),
    # Writes are transactions of the album (Put/Delete) plus two UpdateItems (its catalog entry and the directory);
    # a transaction is authorised item by item as these single-item actions.
    Function("POST", "albums-create", "albums.handlers.create.handler", ("dynamodb:PutItem", "dynamodb:UpdateItem")),
    Function("PUT", "albums-update", "albums.handlers.update.handler",
             ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")),
    Function("DELETE", "albums-delete", "albums.handlers.delete.handler",
             ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:UpdateItem")),
)

LAMBDA_RUNTIME = "python3.12"
LAMBDA_TIMEOUT = 10
LAMBDA_MEMORY = 256

# Sign-up takes a username, an e-mail and a password. The username is the Cognito Username (unique, refused at
# sign-up when taken, case-insensitive); the e-mail is a sign-in alias once verified. Cognito refuses an e-mail-shaped
# username in a pool with the e-mail alias, hence no "@" below. The site's form checks the same rule (config.js) and
# sends usernames in lower case (MiniStack ignores CaseSensitive=False; lower case behaves the same on both).
USERNAME_RULE = {"minLength": 3, "maxLength": 32, "pattern": "^[a-z0-9._-]+$",
                 "description": "lower-case letters, digits, dots, dashes and underscores"}

PASSWORD_POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}
