"""Configuration from the environment, read once per container into a typed, immutable object."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigurationError(RuntimeError):
    """The function is deployed without a setting it needs; raised at cold start, not on the first request."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    user_pool_client_id: str  # the app client whose ID tokens the API takes (albums.authorization)
    cors_allow_origin: str = "*"
    log_level: str = "INFO"


def load_settings(environ: Mapping[str, str]) -> Settings:
    table_name = environ.get("ALBUMS_TABLE", "").strip()
    if not table_name:
        raise ConfigurationError("ALBUMS_TABLE is not set: give every albums-* function the DynamoDB table name.")
    client_id = environ.get("USER_POOL_CLIENT_ID", "").strip()
    if not client_id:
        raise ConfigurationError(
            "USER_POOL_CLIENT_ID is not set: give every albums-* function the app client id (the API takes only the "
            "ID tokens of that client).")
    log_level = environ.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if not isinstance(logging.getLevelName(log_level), int):
        raise ConfigurationError(f"LOG_LEVEL={log_level!r} is not a logging level (DEBUG, INFO, WARNING, ERROR).")
    return Settings(
        table_name=table_name,
        user_pool_client_id=client_id,
        cors_allow_origin=environ.get("CORS_ALLOW_ORIGIN", "").strip() or "*",
        log_level=log_level,
    )


@functools.cache
def get_settings() -> Settings:
    return load_settings(os.environ)
