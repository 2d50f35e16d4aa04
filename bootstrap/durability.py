"""What goes into the write-ahead journal (bootstrap/journal.py), and how a start replays it.

Two services hold what users do all day, and both are journaled change by change, never re-serialised whole per write:

- DynamoDB: every item write in MiniStack 1.5.33 goes through `dynamodb._set_item` / `_remove_item` (puts, updates,
  deletes, batches, transactions, TTL expiry). Both are wrapped: the item as stored, or its deletion, is appended to
  the journal at that moment (records `["i", account, region, table, pk, sk, item|null]`). Table-level changes
  (create, update, delete, TTL, tags, backups) are noticed by a fingerprint of the tables' definitions and saved as a
  whole snapshot (they happen at deploy time, not per album).
- Cognito: its handlers run in worker threads and change the user record in place, so there is no single choke point.
  A user-level request (sign-up, confirmation, sign-in, password, attributes, sign-out, admin user calls) names its
  users (Username, AuthParameters.USERNAME, ChallengeResponses.USERNAME, the access token's `username`, the sign-in
  session's user): each is resolved before and after the request (an alias or sub resolves to its key), users added
  or removed anywhere are found by their keys, and each one's record as it now is goes into the journal
  (`["u", account, region, pool id, username, user|null]`), with the pool's own definition when it changed
  (`["p", ...]`) and the small token/session stores when they changed (`["s", {...}]`). Any other Cognito change is
  saved as a whole snapshot.

Everything else (Lambda, API Gateway, IAM, S3's bucket list, CloudFormation, log groups) is small and changes at
deploy time: ministack_server.py saves it whole before answering the request that changed it.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

from bootstrap import ministack_internals as internals
from bootstrap.journal import Journal

log = logging.getLogger("stack.durability")

DYNAMODB, COGNITO = "dynamodb", "cognito"
JOURNALED = (DYNAMODB, COGNITO)
# DynamoDB actions whose every change is an item (journaled by the hooks); any other non-read action may change a
# table's definition, which its fingerprint tells.
ITEM_ACTIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems",
                          "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
# Cognito actions that change users (and the token/session stores) only; anything else is saved whole.
USER_ACTIONS = frozenset({
    "SignUp", "ConfirmSignUp", "ResendConfirmationCode", "InitiateAuth", "RespondToAuthChallenge",
    "AdminInitiateAuth", "AdminRespondToAuthChallenge", "ForgotPassword", "ConfirmForgotPassword", "ChangePassword",
    "GlobalSignOut", "AdminUserGlobalSignOut", "RevokeToken", "DeleteUser", "AdminDeleteUser", "AdminCreateUser",
    "AdminConfirmSignUp", "AdminSetUserPassword", "AdminResetUserPassword", "AdminUpdateUserAttributes",
    "UpdateUserAttributes", "VerifyUserAttribute", "GetUserAttributeVerificationCode", "AdminDisableUser",
    "AdminEnableUser", "AdminDeleteUserAttributes", "DeleteUserAttributes", "SetUserMFAPreference",
    "AdminSetUserMFAPreference", "AssociateSoftwareToken", "VerifySoftwareToken", "GetTokensFromRefreshToken",
})

PoolKey = tuple[str, str, str]
UserKey = tuple[PoolKey, str]


class Durability:
    """The journal's capture (hooks, per-request user capture) and replay, for one server process."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.replaying = False
        self.needs_snapshot: set[str] = set()  # journaled services whose change the journal cannot express
        self.known_tables: set[Any] = set()  # tables (scoped keys) that the latest DynamoDB snapshot holds
        self.known_pools: set[Any] = set()
        self.fingerprints: dict[str, str] = {}
        self._pool_meta: dict[Any, str] = {}
        self._small_stores = ""
        self._originals: dict[str, Callable[..., Any]] = {}

    # ---- DynamoDB ------------------------------------------------------------------------------------------------
    def install(self) -> None:
        self._originals = {
            "_set_item": internals.wrap("ministack.services.dynamodb", "_set_item", self._hook_set),
            "_remove_item": internals.wrap("ministack.services.dynamodb", "_remove_item", self._hook_remove),
        }

    def uninstall(self) -> None:
        import importlib

        module = importlib.import_module("ministack.services.dynamodb")
        for name, original in self._originals.items():
            setattr(module, name, original)
        self._originals = {}

    def _hook_set(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def _set_item(table: dict[str, Any], pk_val: Any, sk_val: Any, item: dict[str, Any]) -> Any:
            old = original(table, pk_val, sk_val, item)
            self._item_changed(table, pk_val, sk_val, item)
            return old
        return _set_item

    def _hook_remove(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def _remove_item(table: dict[str, Any], pk_val: Any, sk_val: Any) -> Any:
            old = original(table, pk_val, sk_val)
            if old is not None:
                self._item_changed(table, pk_val, sk_val, None)
            return old
        return _remove_item

    def _item_changed(self, table: dict[str, Any], pk_val: Any, sk_val: Any, item: dict[str, Any] | None) -> None:
        if self.replaying:
            return
        key = table_key(table)
        if key is None or key not in self.known_tables:  # a table the snapshot does not hold yet: save it whole
            self.needs_snapshot.add(DYNAMODB)
            return
        try:
            self.journal.append(DYNAMODB, ["i", *key, pk_val, sk_val, item])
        except (TypeError, ValueError):
            log.exception("an item could not be journaled: DynamoDB is saved whole instead")
            self.needs_snapshot.add(DYNAMODB)

    def dynamodb_fingerprint(self) -> str:
        """The tables' definitions and DynamoDB's other stores (not the items): changes when a table-level call or a
        CloudFormation deploy changed something the item journal does not carry."""
        index = internals.get("ministack.services.dynamodb", "_INDEX_MEMBERS")
        skip = {"items", index, "ItemCount", "TableSizeBytes"}
        tables = internals.get("ministack.services.dynamodb", "_tables")
        parts = [(key, {k: v for k, v in table.items() if k not in skip}) for key, table in list(tables._data.items())]
        others = [(name, _items(internals.dynamodb_store(name))) for name in internals.DYNAMODB_OTHER_STORES]
        return repr((parts, others))

    # ---- Cognito -------------------------------------------------------------------------------------------------
    def cognito_before(self, action: str, data: dict[str, Any]) -> CognitoChange | None:
        """Run before a user-level request is handled (its body read, its handler not started)."""
        if action not in USER_ACTIONS:
            return None
        try:
            names = _named_users(data)
            pools = _pools()
            keys = {pool_key: set(pool["_users"]) for pool_key, pool in pools.items()}
            return CognitoChange(names, keys, self._resolve(pools, names))
        except Exception:  # a worker thread changed a dict under us: save Cognito whole instead
            log.exception("users of a Cognito request could not be captured before it")
            return None

    def cognito_after(self, change: CognitoChange | None) -> None:
        """Run when the request's response starts: journal every user it may have changed."""
        if change is None:
            self.needs_snapshot.add(COGNITO)
            return
        try:
            pools = _pools()
            users = change.resolved | self._resolve(pools, change.names)
            for pool_key, pool in pools.items():
                users |= {(pool_key, name) for name in set(pool["_users"]) ^ change.keys.get(pool_key, set())}
                meta = {k: v for k, v in pool.items() if k != "_users"}
                if pool_key not in self.known_pools:
                    self.needs_snapshot.add(COGNITO)
                elif repr(meta) != self._pool_meta.get(pool_key):
                    self.journal.append(COGNITO, ["p", *pool_key, meta])
                    self._pool_meta[pool_key] = repr(meta)
            for pool_key, name in sorted(users):
                holder = pools.get(pool_key)
                if holder is not None:
                    self.journal.append(COGNITO, ["u", *pool_key, name, holder["_users"].get(name)])
            stores = _small_stores()
            text = json.dumps(stores, default=repr, sort_keys=True)
            if text != self._small_stores:
                self.journal.append(COGNITO, ["s", stores])
                self._small_stores = text
        except Exception:
            log.exception("users of a Cognito request could not be journaled: Cognito is saved whole instead")
            self.needs_snapshot.add(COGNITO)

    @staticmethod
    def _resolve(pools: dict[PoolKey, dict[str, Any]], names: set[str]) -> set[UserKey]:
        resolve = internals.get("ministack.services.cognito", "_resolve_user")
        found = set()
        for pool_key, pool in pools.items():
            for name in names:
                user = resolve(pool, name)[0]
                if user is None:
                    continue
                key = next((k for k, u in list(pool["_users"].items()) if u is user), None)
                if key is not None:
                    found.add((pool_key, key))
        return found

    def cognito_fingerprint(self) -> str:
        """The pools' definitions (not their users) and Cognito's other stores: what a deploy may change."""
        pools = [(key, {k: v for k, v in pool.items() if k != "_users"}) for key, pool in _pools().items()]
        others = [(name, _items(internals.cognito_store(name)))
                  for name in ("pool_domain_map", "identity_pools", "identity_tags")]
        return repr((pools, others))

    # ---- snapshots -----------------------------------------------------------------------------------------------
    def fingerprint(self, service: str) -> str:
        return self.dynamodb_fingerprint() if service == DYNAMODB else self.cognito_fingerprint()

    def snapshot_taken(self, service: str) -> None:
        """Called at the moment a journaled service's snapshot is taken (in the event loop, with its rotation)."""
        self.needs_snapshot.discard(service)
        if service == DYNAMODB:
            self.known_tables = set(internals.get("ministack.services.dynamodb", "_tables")._data)
        else:
            pools = _pools()
            self.known_pools = set(pools)
            self._pool_meta = {key: repr({k: v for k, v in pool.items() if k != "_users"})
                               for key, pool in pools.items()}
            self._small_stores = json.dumps(_small_stores(), default=repr, sort_keys=True)
        self.fingerprints[service] = self.fingerprint(service)

    def changed_beyond_journal(self, service: str) -> bool:
        return service in self.needs_snapshot or self.fingerprints.get(service) != self.fingerprint(service)

    # ---- replay --------------------------------------------------------------------------------------------------
    def replay(self, snapshot_segments: dict[str, int]) -> dict[str, int]:
        """Apply the journal's records after each service's snapshot; returns how many per service."""
        get_module = internals.get("ministack.app", "_get_module")
        counts = {}
        self.replaying = True
        try:
            for service in JOURNALED:
                after = snapshot_segments.get(service, 0)
                self.journal.continue_after(service, after)
                count = 0
                for record in self.journal.records(service, after):
                    if count == 0:
                        get_module(service)  # loaded (and so saved later) even if no snapshot held it yet
                    apply = _APPLY[record[0]]
                    apply(record[1:])
                    count += 1
                counts[service] = count
        finally:
            self.replaying = False
        for service in JOURNALED:
            self.snapshot_taken_if_loaded(service)
        return counts

    def snapshot_taken_if_loaded(self, service: str) -> None:
        """After a start: what the loaded snapshots plus the replay hold is the baseline (nothing is unknown)."""
        import sys

        if f"ministack.services.{service}" in sys.modules:
            self.snapshot_taken(service)


class CognitoChange:
    """What a user-level Cognito request was about, taken before it ran."""

    def __init__(self, names: set[str], keys: dict[PoolKey, set[str]], resolved: set[UserKey]) -> None:
        self.names = names
        self.keys = keys
        self.resolved = resolved


def table_key(table: dict[str, Any]) -> tuple[str, str, str] | None:
    """(account, region, name) of a table, from its ARN (arn:aws:dynamodb:<region>:<account>:table/<name>)."""
    parts = str(table.get("TableArn", "")).split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("table/"):
        return None
    return parts[4], parts[3], parts[5][len("table/"):]


def _items(store: Any) -> list[tuple[Any, Any]]:
    data = getattr(store, "_data", store)
    return sorted(data.items(), key=repr) if isinstance(data, dict) else sorted(data, key=repr)


def _pools() -> dict[PoolKey, dict[str, Any]]:
    pools: dict[PoolKey, dict[str, Any]] = dict(internals.get("ministack.services.cognito", "_user_pools")._data)
    return pools


def _small_stores() -> dict[str, Any]:
    stores: dict[str, Any] = {}
    for name in internals.COGNITO_SMALL_STORES:
        store = internals.cognito_store(name)
        if isinstance(store, set):
            stores[name] = sorted(store)
        elif hasattr(store, "_data"):
            stores[name] = [[list(key), value] for key, value in list(store._data.items())]
        else:
            stores[name] = dict(store)
    return stores


def _named_users(data: dict[str, Any]) -> set[str]:
    names = {data.get("Username"), (data.get("AuthParameters") or {}).get("USERNAME"),
             (data.get("ChallengeResponses") or {}).get("USERNAME"), _token_username(data.get("AccessToken"))}
    session = data.get("Session")
    if session:
        sessions = internals.cognito_store("challenge_sessions")
        for (_account, token), value in list(sessions._data.items()):
            if token == session and isinstance(value, dict):
                names.add(value.get("username"))
    return {name for name in names if isinstance(name, str) and name}


def _token_username(token: Any) -> str | None:
    """The `username` claim of an access token (unverified: only to know whose record to journal)."""
    if not isinstance(token, str) or token.count(".") != 2:
        return None
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
    name = claims.get("username") or claims.get("cognito:username")
    return name if isinstance(name, str) else None


# ---- replay of each record kind ---------------------------------------------------------------------------------
def _apply_item(fields: list[Any]) -> None:
    account, region, name, pk_val, sk_val, item = fields
    table = internals.get("ministack.services.dynamodb", "_tables")._data.get((account, region, name))
    if table is None:
        log.error("journal: item of table %s/%s/%s, which no longer exists: skipped", account, region, name)
        return
    if item is None:
        internals.get("ministack.services.dynamodb", "_remove_item")(table, pk_val, sk_val)
    else:
        internals.get("ministack.services.dynamodb", "_set_item")(table, pk_val, sk_val, item)


def _apply_user(fields: list[Any]) -> None:
    account, region, pool_id, name, user = fields
    pool = _pools().get((account, region, pool_id))
    if pool is None:
        log.error("journal: user of pool %s, which no longer exists: skipped", pool_id)
        return
    if user is None:
        pool["_users"].pop(name, None)
    else:
        pool["_users"][name] = user


def _apply_pool(fields: list[Any]) -> None:
    account, region, pool_id, meta = fields
    store = internals.get("ministack.services.cognito", "_user_pools")
    pool = store._data.setdefault((account, region, pool_id), {"_users": {}})
    for key in [k for k in pool if k != "_users"]:
        del pool[key]
    pool.update({k: v for k, v in meta.items() if k != "_users"})


def _apply_small_stores(fields: list[Any]) -> None:
    (stores,) = fields
    for name, value in stores.items():
        store = internals.cognito_store(name)
        if isinstance(store, set):
            store.clear()
            store.update(value)
        elif hasattr(store, "_data"):
            store._data.clear()
            store._data.update({tuple(key): item for key, item in value})
        else:
            store.clear()
            store.update(value)


_APPLY: dict[str, Callable[[list[Any]], None]] = {"i": _apply_item, "u": _apply_user, "p": _apply_pool,
                                                  "s": _apply_small_stores}
