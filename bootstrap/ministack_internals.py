"""Every MiniStack internal our server relies on, named in ONE place (MiniStack 1.5.33).

MiniStack has no public API for what `bootstrap/ministack_server.py`, `ministack_fixes.py`,
`ministack_fix_accounts.py` and `durability.py` do (saving while running, a write-ahead journal of item and user
changes, the fidelity fixes), so they reach into its modules. Each name they use is listed here, with what it must be;
`tests/unit/test_ministack_internals.py` checks every entry (and the behaviour the journal depends on: an item write
goes through `_set_item`/`_remove_item`, a snapshot of the stores round-trips), so an upgrade that renames, moves or
reshapes one fails a test instead of silently losing data. Read this list again on every MiniStack upgrade.

This module imports MiniStack lazily: `check()` and the accessors import what they name when called.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Internal:
    module: str
    name: str
    kind: str  # "function" | "store" (a module-level container we read or write) | "constant"
    why: str


INTERNALS: tuple[Internal, ...] = (
    # --- persistence: our saves write the files MiniStack's own start reads -------------------------------------
    Internal("ministack.app", "_build_persistence_save_dict", "function",
             "{state file: get_state} of the loaded services, what MiniStack saves at stop"),
    Internal("ministack.app", "_get_module", "function", "import a service module by name (journal replay)"),
    Internal("ministack.app", "PERSIST_STATE", "constant", "switched off at our stop: our final save is the one"),
    Internal("ministack.core.persistence", "_json_default", "function", "MiniStack's JSON encoding of its stores"),
    Internal("ministack.core.persistence", "_json_object_hook", "function", "... and its decoding"),
    Internal("ministack.core.persistence", "_state_format_version", "function", "the version a state file carries"),
    # --- DynamoDB: every item write goes through these two, so the journal records each item as written -----------
    Internal("ministack.services.dynamodb", "_set_item", "function", "store one item (hooked: journaled)"),
    Internal("ministack.services.dynamodb", "_remove_item", "function", "delete one item (hooked: journaled)"),
    Internal("ministack.services.dynamodb", "_tables", "store",
             "AccountRegionScopedDict (account, region, name) -> table dict with 'items' and 'TableArn'"),
    Internal("ministack.services.dynamodb", "_INDEX_MEMBERS", "constant", "the derived index key, never persisted"),
    Internal("ministack.services.dynamodb", "get_state", "function", "its snapshot (compaction)"),
    # --- Cognito: users live in pool['_users'], mutated by handlers that run in worker threads ----------------------
    Internal("ministack.services.cognito", "_user_pools", "store",
             "AccountRegionScopedDict (account, region, pool id) -> pool dict with '_users' {username: user}"),
    Internal("ministack.services.cognito", "_resolve_user", "function", "a user by username, alias or sub"),
    Internal("ministack.services.cognito", "_challenge_sessions", "store", "AccountScopedDict of sign-in sessions"),
    Internal("ministack.services.cognito", "_refresh_tokens", "store", "dict"),
    Internal("ministack.services.cognito", "_revoked_tokens", "store", "set"),
    Internal("ministack.services.cognito", "_authorization_codes", "store", "dict"),
    Internal("ministack.services.cognito", "_auth_codes", "store", "dict"),
    Internal("ministack.services.cognito", "get_state", "function", "its snapshot (compaction)"),
    # --- Cognito fidelity fix (ministack_fixes.py) -----------------------------------------------------------------
    Internal("ministack.services.cognito", "_confirm_sign_up", "function", "wrapped: e-mail verified on confirmation"),
    Internal("ministack.services.cognito", "_pool_for_client", "function", "the pool of an app client"),
    Internal("ministack.services.cognito", "_attr_list_to_dict", "function", "user attributes as a dict"),
    Internal("ministack.services.cognito", "_dict_to_attr_list", "function", "... and back"),
    # --- accounts (ministack_fix_accounts.py): PostConfirmation, attribute updates, group memberships -------------
    *(Internal("ministack.services.cognito", name, "function", "wrapped (looked up by name per request)")
      for name in ("_admin_confirm_sign_up", "_confirm_forgot_password", "_update_user_attributes", "_delete_user",
                   "_admin_delete_user")),
    *(Internal("ministack.services.cognito", name, "function", "used as cognito.py's own triggers use it")
      for name in ("_resolve_pool", "_pool_region", "_user_pool_for_access_token", "_token_claims",
                   "error_response_json")),
    *(Internal("ministack.services.lambda_svc", name, "function", "invokes a trigger as cognito.py's PreSignUp does")
      for name in ("_get_func_record_for_ref", "_execution_record_for_config", "_execute_function_with_config_scope")),
    # --- point-in-time recovery from a template (ministack_fixes.py) ----------------------------------------------
    Internal("ministack.services.cloudformation.provisioners", "_RESOURCE_HANDLERS", "store",
             "type -> {'create', 'update', ...}: the table's two are wrapped"),
    Internal("ministack.services.dynamodb", "_update_continuous_backups", "function",
             "UpdateContinuousBackups({'TableName', 'PointInTimeRecoverySpecification'})"),
    # --- Lambda workers (ministack_fixes.py, fix 3): a busy worker finishes its call before it is killed ----------
    Internal("ministack.core.lambda_runtime", "kill_workers", "function", "wrapped: busy workers only retired"),
    Internal("ministack.core.lambda_runtime", "release_worker", "function", "wrapped: a retired worker is killed"),
    Internal("ministack.core.lambda_runtime", "_lock", "constant", "the pool's lock, under which in_use changes"),
    Internal("ministack.core.lambda_runtime", "_workers", "store", "dict key -> [Worker]: the pools"),
    Internal("ministack.core.lambda_runtime", "invalidate_worker", "function", "calls kill_workers on code updates"),
    Internal("ministack.services.lambda_svc", "release_worker", "function", "imported there by name: wrapped too"),
    # --- Lambda workers (ministack_fixes.py, fix 4): a reused worker runs the caller's code ------------------------
    Internal("ministack.core.lambda_runtime", "acquire_worker", "function",
             "wrapped: (worker, 'reused'|'spawn') or (None, 'func_cap'); a Worker keeps its `code_zip`"),
    Internal("ministack.services.lambda_svc", "acquire_worker", "function", "imported there by name: wrapped too"),
    # --- CloudFormation: a deploy runs as a task after its request; saved once no stack is in progress -----------
    Internal("ministack.services.cloudformation", "_stacks", "store", "dict name -> stack with 'StackStatus'"),
    # --- the shape of the scoped containers the journal writes into -------------------------------------------------
    Internal("ministack.core.responses", "AccountRegionScopedDict", "function", "its items live in `_data`"),
    Internal("ministack.core.responses", "AccountScopedDict", "function", "its items live in `_data`"),
)

# The DynamoDB stores besides the tables that its get_state() saves: a change to them is not journaled item by item
# but noticed by their fingerprint and saved whole (they are small: tags, TTL settings, backups ...).
DYNAMODB_OTHER_STORES = ("tags", "ttl_settings", "pitr_settings", "kinesis_destinations", "contributor_insights",
                         "backups", "resource_policies", "exports", "imports")
# Cognito's stores besides the pools, journaled whole when a user-level request changed them (all small).
COGNITO_SMALL_STORES = ("authorization_codes", "refresh_tokens", "revoked_tokens", "auth_codes", "challenge_sessions")


def get(module: str, name: str) -> Any:
    """The named internal; it must be listed above."""
    if not any(item.module == module and item.name == name for item in INTERNALS):
        raise KeyError(f"{module}.{name} is not listed in bootstrap/ministack_internals.py")
    return getattr(importlib.import_module(module), name)


def dynamodb_store(name: str) -> Any:
    """One of DynamoDB's other stores (module global `_<name>`)."""
    return getattr(importlib.import_module("ministack.services.dynamodb"), f"_{name}")


def cognito_store(name: str) -> Any:
    return getattr(importlib.import_module("ministack.services.cognito"), f"_{name}")


def check() -> list[str]:
    """What is missing or has changed kind: empty when this MiniStack still has everything listed."""
    problems = []
    for item in INTERNALS:
        try:
            value = getattr(importlib.import_module(item.module), item.name)
        except (ImportError, AttributeError) as error:
            problems.append(f"{item.module}.{item.name}: {error}")
            continue
        if item.kind == "function" and not callable(value):
            problems.append(f"{item.module}.{item.name} is no longer callable")
        if item.kind == "store" and not (hasattr(value, "_data") or isinstance(value, dict | set)):
            problems.append(f"{item.module}.{item.name} is no longer a container")
    for name in DYNAMODB_OTHER_STORES:
        if not hasattr(importlib.import_module("ministack.services.dynamodb"), f"_{name}"):
            problems.append(f"ministack.services.dynamodb._{name} is missing")
    for name in COGNITO_SMALL_STORES:
        if not hasattr(importlib.import_module("ministack.services.cognito"), f"_{name}"):
            problems.append(f"ministack.services.cognito._{name} is missing")
    return problems


def wrap(module: str, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Callable[..., Any]:
    """Replace a listed module function by make(original); returns the original. Callers inside the module look the
    name up at call time, so they get the wrapper."""
    original: Callable[..., Any] = get(module, name)
    setattr(importlib.import_module(module), name, make(original))
    return original
