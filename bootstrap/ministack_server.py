"""MiniStack in ONE process that we own: identity, saving while running, a stop that saves.

`python bootstrap/ministack_server.py <stack dir> <bind host> <port>`, started by `bootstrap.emulator` (`make up`) and
by docker-compose.yml's `ministack` service (`make up STACK=docker`, in MiniStack's official image), never by hand. Run
by path: this folder is on its import path and not on its Lambda workers', and it puts the checkout's root and
lambdas/ there itself, so any Python with MiniStack's packages runs it from a checkout, installed or not (a container
mounts one read-only). It serves `ministack.app:app` with hypercorn in this process, so the pid we record IS the
server (`python -m hypercorn` forks a child that keeps serving when its master is killed). Around MiniStack's ASGI app
it adds:

- `GET /_stack/identity`: which stack dir, pid and instance serve this port, so `up`/`down`/`status` can tell our
  stack from another clone's on the same port.
- Nothing acknowledged is lost (STACK_DURABILITY=journal, the default). Every response waits until what the
  request changed is on disk: DynamoDB items and Cognito users go into a write-ahead journal (durability.py,
  journal.py: one JSON line per item or user as it now is, group-committed with one fsync for all waiting
  requests), which is folded into the service's snapshot when it has grown to half the snapshot's size (at least
  STACK_JOURNAL_COMPACT_BYTES) or after STACK_JOURNAL_COMPACT_IDLE seconds without changes; a stop folds only a
  journal that big (the next start replays a small one faster than a stop re-serialises 50,000 albums). The other
  services (Lambda, API Gateway, IAM, S3's buckets, CloudFormation, log groups: small, changed at deploy time) are
  saved whole before the request that changed them is answered, and a CloudFormation deploy, which runs after its
  request, before the first answer once no stack is in progress. A start loads the snapshots and replays the
  journal after them. A snapshot is written to `<service>.json.tmp`, fsynced and renamed over `<service>.json`, so
  a crash mid-save leaves the previous file whole.
- STACK_DURABILITY=periodic: what this server did before (kept to measure against): the state files a request may
  have changed are saved soon after it, within a 0.1 s tick once the last save is SAVE_INTERVAL old, so a stream of
  writes is saved about once a second and a hard kill loses the last moment. Started on a journaled run's state, it
  replays and saves that journal first.
- A run file (`running.json`) that exists only while the server runs and records its last save; the next start
  finds it after a crash and reports what was lost.
- An admission gate for API calls (`/_aws/execute-api/...`). MiniStack starts one Lambda worker per concurrent
  invocation and never queues (at a concurrency cap it throttles): 40 clients at once made 40 workers thrash on two
  cores until the 10 s function timeout. On AWS Lambda scales out; here at most API_CONCURRENCY calls run at once,
  the rest wait their turn (FIFO) up to API_QUEUE_SECONDS, and only then get a 503 with CORS and Retry-After.
- Readable gateway errors: a 429/5xx that API Gateway itself produced (a throttled or timed-out function) comes
  back as our JSON error shape with CORS, as the stack's DEFAULT_5XX gateway response would make
  it on AWS (MiniStack ignores gateway responses for these).
- On SIGTERM: one final save with progress in `stop.json`, then MiniStack's own shutdown (its save is switched
  off: ours is the one). Every MiniStack internal used here is listed in ministack_internals.py (and tested).
- For `make watch` (bootstrap/watch.py), on the same origin as the site: `GET /_stack/site/reload.js`, a script the
  watcher adds to the pages it uploads (never to what `make up` or a deploy uploads), which waits on
  `GET /_stack/site/version?after=N` and reloads the page when `POST /_stack/site/changed` says the site changed
  (the paths are server_protocol's; the script reads the version's from its tag).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import sys
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if __name__ == "__main__":
    # Run by path (as the emulator and docker-compose.yml run it), this folder is on the import path; the checkout's
    # root and lambdas/ are not, unless the checkout is installed (`make install`; a container has only the image's
    # Python). Added here, in this process only: the Lambda workers it starts import their own zip.
    _CHECKOUT = Path(__file__).resolve().parent.parent
    sys.path[1:1] = [str(_CHECKOUT), str(_CHECKOUT / "lambdas")]

from albums.http import cors_headers, error_body
from bootstrap import ministack_internals as internals
from bootstrap.durability import DYNAMODB, ITEM_ACTIONS, JOURNALED, CognitoChange, Durability
from bootstrap.journal import MARKER, Journal, snapshot_segment
from bootstrap.server_protocol import (
    IDENTITY_PATH,
    RUN_FILE,
    SITE_CHANGED,
    SITE_PATH,
    SITE_RELOAD_SCRIPT,
    SITE_VERSION,
    STACK_DIRS,
    STOP_FILE,
    origin,
    setting,
)

if TYPE_CHECKING:  # hypercorn itself is imported only by serve()
    from hypercorn.typing import ASGIFramework

# ASGI's shapes (the spec's scope, messages and callables), spelled here: no ASGI typing package is pinned.
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

LAST_RUN_FILE = "last-run.json"
SAVE_INTERVAL = float(setting("STACK_SAVE_INTERVAL"))
SAVE_TICK = 0.1
API_CONCURRENCY = int(setting("STACK_API_CONCURRENCY"))
API_QUEUE_SECONDS = float(setting("STACK_API_QUEUE_SECONDS"))
RETRY_AFTER_SECONDS = "1"
DURABILITY = setting("STACK_DURABILITY")  # journal | periodic (before issue 24)
JOURNAL_FSYNC = setting("STACK_JOURNAL_FSYNC") != "0"
COMPACT_BYTES = int(setting("STACK_JOURNAL_COMPACT_BYTES"))
COMPACT_RATIO = float(setting("STACK_JOURNAL_COMPACT_RATIO"))  # of the snapshot's size
COMPACT_IDLE_SECONDS = float(setting("STACK_JOURNAL_COMPACT_IDLE"))
JOURNAL_TICK = 0.05
SITE_WAIT_SECONDS = 25  # a page's long poll for a change of the site
RELOAD_SCRIPT = Path(__file__).resolve().with_name("watch_reload.js")
# CloudFormation calls that start a deploy, which runs after the call has been answered.
_CFN_PROVISIONING = {"ExecuteChangeSet", "CreateStack", "UpdateStack", "DeleteStack", "RollbackStack",
                     "ContinueUpdateRollback", "CancelUpdateStack", "SignalResource"}
_CFN_READ_PREFIXES = ("Describe", "List", "Get", "Validate", "Estimate")


def _is_api_call(path: str) -> bool:
    """A call of a deployed API (not the API Gateway management API, which also lives under /restapis/)."""
    return path.startswith("/_aws/execute-api/") or (path.startswith("/restapis/") and "/_user_request_/" in path)
# Methods and API actions that never change state: every other request marks the state as changed.
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}
_READ_ACTION_PREFIXES = ("Get", "List", "Describe", "BatchGet", "Query", "Scan", "FilterLogEvents")

log = logging.getLogger("stack")


ALL = "*"
# Which state files a signed request's service (its SigV4 credential scope) or its X-Amz-Target prefix can change.
# Lambda logs are written by invocations, not requests: they are saved at stop, not while running.
_STATE_FILES = {
    "dynamodb": {"dynamodb"}, "DynamoDB_20120810": {"dynamodb"},
    "cognito-idp": {"cognito"}, "AWSCognitoIdentityProviderService": {"cognito"},
    "lambda": {"lambda"}, "apigateway": {"apigateway", "apigateway_v1"}, "s3": {"s3"}, "iam": {"iam"},
    "logs": {"cloudwatch_logs"}, "Logs_20140328": {"cloudwatch_logs"}, "sts": set(),
}
_CREDENTIAL_SCOPE = re.compile(rb"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def _service_of(scope: Scope) -> str:
    """The AWS service a request is for: its SigV4 credential scope, else its X-Amz-Target prefix."""
    headers = dict(scope["headers"])
    scope_match = _CREDENTIAL_SCOPE.search(headers.get(b"authorization", b""))
    return scope_match.group(1).decode() if scope_match else \
        headers.get(b"x-amz-target", b"").decode("latin-1").split(".", 1)[0]


def _state_files_changed_by(scope: Scope) -> set[str]:
    # A CloudFormation call may change every service (a deploy runs after it): everything, like any unknown service.
    return _STATE_FILES.get(_service_of(scope), {ALL})  # unknown: mark everything, saving too much rather than less


class _Change:
    """One request, as far as saving it goes: the state files it may change, its action, its body when needed."""

    def __init__(self, scope: Scope, read: bool) -> None:
        self.read = read
        # Journal mode knows what a CloudFormation call changes now (its own state) and later (see _settle).
        cloudformation = _service_of(scope) == "cloudformation"
        self.files = set() if read else {"cloudformation"} if cloudformation else _state_files_changed_by(scope)
        target = next((v for k, v in scope["headers"] if k == b"x-amz-target"), b"").decode("latin-1")
        self.action = target.rsplit(".", 1)[-1]
        self.service = "cognito" if "cognito" in self.files else "cloudformation" if "cloudformation" in self.files \
            else ""
        self.wants_body = bool(self.service)
        self.body = b""
        self.cognito: CognitoChange | None = None

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def form_action(self) -> str:
        """The Action of a query-protocol call (CloudFormation): `Action=DescribeStacks&...`."""
        values = urllib.parse.parse_qs(self.body.decode("latin-1")).get("Action", [""])
        return values[0]


def _snapshot(get_state: Callable[[], Any]) -> Any:
    """A service's state; Cognito's handlers change theirs in worker threads, so a copy can meet a dict that changes
    size under it: tried again a few times."""
    for attempt in range(5):
        try:
            return get_state()
        except RuntimeError:
            if attempt == 4:
                log.exception("a snapshot kept meeting concurrent changes")
            time.sleep(0.002)
    return None


def _cfn_deploy_in_progress() -> bool:
    stacks = internals.get("ministack.services.cloudformation", "_stacks")
    return any(str(stack.get("StackStatus", "")).endswith("_IN_PROGRESS")
               for stack in list(stacks._data.values()) if isinstance(stack, dict))


def _json_default() -> Callable[[Any], Any]:
    encode: Callable[[Any], Any] = internals.get("ministack.core.persistence", "_json_default")
    return encode


def _json_object_hook() -> Callable[[dict[str, Any]], Any]:
    decode: Callable[[dict[str, Any]], Any] = internals.get("ministack.core.persistence", "_json_object_hook")
    return decode


def write_json_atomically(path: Path, document: object, default: Callable[[Any], Any] | None = None) -> None:
    """Temp file + fsync + rename: a reader (or the next start) sees the old file or the new one, never half."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w") as handle:
        json.dump(document, handle, default=default)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:  # the rename itself is on disk too
        os.fsync(directory)
    finally:
        os.close(directory)


class StackServer:
    def __init__(self, stack_dir: Path, state_dir: Path, port: int) -> None:
        self.stack_dir = stack_dir
        self.state_dir = state_dir
        self.cors = cors_of(origin(port))  # the site is served by this very server: its origin is ours
        self.instance = secrets.token_hex(8)
        self.started_at = time.time()
        # State files that requests may have changed since their last save (ALL: no idea which), marked when the
        # response starts, i.e. after the service changed its state.
        self.unsaved: set[str] = set()
        self.saving = False
        self.stopping = False
        self.last_save_at: float | None = None
        self.last_change_at: float | None = None
        self.last_save_seconds: float | None = None
        self.api_gate: asyncio.Semaphore | None = None
        # Journal mode (the default): set up by serve() through use_journal().
        self.journal: Journal | None = None
        self.durability: Durability | None = None
        self.save_locks: dict[str, asyncio.Lock] = {}
        self.cfn_deploying = False
        self.replayed: dict[str, int] = {}
        self.last_flush_at: float | None = None
        self.site_version = 0
        self.site_changed: asyncio.Condition | None = None
        self.fold_leftover_journal = False  # periodic mode, started on a journaled run's state

    def use_journal(self) -> None:
        self.journal = Journal(self.state_dir / "journal", fsync=JOURNAL_FSYNC, encode=_json_default(),
                               decode=_json_object_hook())
        self.durability = Durability(self.journal)
        self.durability.install()

    # ---- ASGI ----
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from ministack.app import app

        ministack_app: App = app  # an untyped module: say what it is
        if scope["type"] == "lifespan" and (self.durability is not None or self.fold_leftover_journal):
            return await ministack_app(scope, receive, self._replay_before_serving(send))
        if scope["type"] != "http":
            return await ministack_app(scope, receive, send)
        if scope["path"] == IDENTITY_PATH:
            return await self._identity(send)
        if scope["path"].startswith(SITE_PATH):
            return await self._site(scope, receive, send)
        if _is_api_call(scope["path"]) and scope["method"] != "OPTIONS":
            return await self._api_call(scope, receive, send, ministack_app)
        if self.durability is not None:
            return await self._journaled(scope, receive, send, ministack_app)
        if not self._is_read(scope):
            changed = _state_files_changed_by(scope)

            async def send_and_mark(message: Message) -> None:
                if message["type"] == "http.response.start":
                    self.unsaved.update(changed)
                    self.last_change_at = time.time()
                await send(message)
            return await ministack_app(scope, receive, send_and_mark)
        return await ministack_app(scope, receive, send)

    async def _api_call(self, scope: Scope, receive: Receive, send: Send, ministack_app: App) -> None:
        if self.api_gate is None:  # created in the serving loop
            self.api_gate = asyncio.Semaphore(API_CONCURRENCY)
        try:
            if API_QUEUE_SECONDS <= 0 and self.api_gate.locked():
                raise TimeoutError  # no queue at all: turned away at once
            await asyncio.wait_for(self.api_gate.acquire(), max(API_QUEUE_SECONDS, 0.001))
        except TimeoutError:
            return await _send_error(send, self.cors, 503, "busy", "The local stack is busy; please retry in a moment.")
        try:
            await ministack_app(scope, receive, _GatewayErrors(self._durable_send(send, None), self.cors))
        finally:
            self.api_gate.release()

    @staticmethod
    def _is_read(scope: Scope) -> bool:
        if scope["method"] in _READ_METHODS or scope.get("path", "").endswith("/invocations"):
            return True  # a Lambda invocation changes no state of the function
        target = next((v for k, v in scope["headers"] if k == b"x-amz-target"), b"").decode("latin-1")
        return bool(target) and target.rsplit(".", 1)[-1].startswith(_READ_ACTION_PREFIXES)

    async def _identity(self, send: Send) -> None:
        body = json.dumps(self.identity()).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def identity(self) -> dict[str, Any]:
        if self.journal is not None:  # everything acknowledged is on disk as soon as nothing waits for a flush
            all_saved = not self.journal.pending
            last_save_at = time.time() if all_saved else self.last_flush_at
        else:
            all_saved, last_save_at = not (self.unsaved or self.saving), self.last_save_at
        return {"stackDir": str(self.stack_dir), "pid": os.getpid(), "instance": self.instance,
                "startedAt": self.started_at, "lastSaveAt": last_save_at,
                "lastSaveSeconds": self.last_save_seconds, "allSaved": all_saved, "durability": DURABILITY,
                "replayed": self.replayed}

    # ---- journal mode: every response waits until what its request changed is on disk ----
    def _replay_before_serving(self, send: Send) -> Send:
        """MiniStack loads its snapshots at lifespan startup; the journal after them is replayed before the server
        accepts its first request."""
        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                if self.durability is not None:
                    self._replay()
                else:
                    await self._fold_leftover_journal()
            await send(message)
        return lifespan_send

    async def _fold_leftover_journal(self) -> None:
        """Periodic mode on the state of a journaled run (the journal is kept at a stop when it is small): replayed,
        saved whole, then deleted, so that no later journaled run replays it over newer snapshots."""
        journal = Journal(self.state_dir / "journal", encode=_json_default(), decode=_json_object_hook())
        segments = {name: snapshot_segment(self.state_dir / f"{name}.json") for name in JOURNALED}
        self.replayed = Durability(journal).replay(segments)
        await self.save(also=frozenset(JOURNALED))
        if not self.unsaved:
            journal.close()
            shutil.rmtree(self.state_dir / "journal", ignore_errors=True)
        log.warning("the journal of a journaled run was replayed (%s) and saved", self.replayed)

    def _replay(self) -> None:
        assert self.journal is not None and self.durability is not None
        began = time.monotonic()
        segments = {name: snapshot_segment(self.state_dir / f"{name}.json") for name in JOURNALED}
        sizes = {name: sum(p.stat().st_size for n in self.journal.segments(name) if n > segments[name]
                           for p in [self.state_dir / "journal" / f"{name}.{n:010d}.log"]) for name in JOURNALED}
        self.replayed = self.durability.replay(segments)
        for name in JOURNALED:
            self.journal.unsnapshotted[name] = self.replayed.get(name, 0)
            self.journal.bytes_written[name] = sizes[name]
        self.last_change_at = time.time()  # a replayed journal is folded once the stack has rested, not during `up`
        if any(self.replayed.values()):
            log.warning("journal replayed in %.2fs: %s", time.monotonic() - began,
                        ", ".join(f"{name} {count} change(s)" for name, count in self.replayed.items()))
        self._write_run_file()

    async def _journaled(self, scope: Scope, receive: Receive, send: Send, ministack_app: App) -> None:
        change = _Change(scope, self._is_read(scope))
        if not change.wants_body:
            return await ministack_app(scope, receive, self._durable_send(send, change))
        parts: list[bytes] = []

        async def tee(message_source: Receive = receive) -> Message:
            message = await message_source()
            if message["type"] == "http.request":
                parts.append(message.get("body", b""))
                if not message.get("more_body"):
                    change.body = b"".join(parts)
                    if change.service == "cognito" and not change.read and self.durability is not None:
                        change.cognito = self.durability.cognito_before(change.action, change.json())
            return message
        return await ministack_app(scope, tee, self._durable_send(send, change))

    def _durable_send(self, send: Send, change: _Change | None) -> Send:
        async def durable_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                try:
                    await self._make_durable(change)
                except Exception:  # answer anyway: the change stays in memory and the next save takes it
                    log.exception("what a request changed could not be saved before its answer")
            await send(message)
        return durable_send

    async def _make_durable(self, change: _Change | None) -> None:
        assert self.journal is not None and self.durability is not None
        if change is not None and not change.read:
            self.last_change_at = time.time()
            await self._settle(change)
        if self.cfn_deploying and not _cfn_deploy_in_progress():
            self.cfn_deploying = False
            await self._save_changed(everything=True)
        for name in sorted(self.durability.needs_snapshot):
            await self.save_service(name)
        await self.journal.sync()
        self.last_flush_at = time.time()

    async def _settle(self, change: _Change) -> None:
        """Make durable what the request changed beyond the journal's hooks."""
        assert self.durability is not None
        if ALL in change.files:
            return await self._save_changed(everything=True)
        for name in sorted(change.files):
            if name == DYNAMODB:
                if change.action not in ITEM_ACTIONS and self.durability.changed_beyond_journal(name):
                    await self.save_service(name)
            elif name == "cognito":
                self.durability.cognito_after(change.cognito)
            elif name == "cloudformation":
                action = change.form_action()
                if action.startswith(_CFN_READ_PREFIXES):
                    continue
                self.cfn_deploying |= action in _CFN_PROVISIONING
                await self.save_service(name)
            else:
                await self.save_service(name)

    async def _save_changed(self, everything: bool = False) -> None:
        """Every loaded service that may have changed: the small ones whole, DynamoDB only when something beyond its
        journal changed (a table's definition), Cognito whole (an unknown call may have changed users)."""
        from ministack.app import _build_persistence_save_dict

        assert self.durability is not None
        for name in list(_build_persistence_save_dict()):
            if name in JOURNALED:
                if name != DYNAMODB or self.durability.changed_beyond_journal(name):
                    await self.save_service(name)
            elif everything:
                await self.save_service(name)

    async def save_service(self, name: str) -> None:
        """Snapshot one service now. A journaled one is rotated at the same moment: its snapshot records the last
        segment it holds, and those segments are deleted once it is in place."""
        from ministack.app import _build_persistence_save_dict
        from ministack.core import persistence

        assert self.journal is not None and self.durability is not None
        lock = self.save_locks.setdefault(name, asyncio.Lock())
        async with lock:
            get_state = _build_persistence_save_dict().get(name)
            if get_state is None:
                return
            journaled = name in JOURNALED
            segment = self.journal.rotate(name) if journaled else None
            began = time.monotonic()
            state = _snapshot(get_state)  # in the event loop, where requests change state: one consistent moment
            if state is None:
                if journaled:
                    self.durability.needs_snapshot.add(name)
                return
            if journaled:
                self.durability.snapshot_taken(name)
            document: dict[str, Any] = {} if segment is None else {MARKER: segment}
            document.update({"__ministack_format__": persistence._state_format_version(name), "payload": state})
            try:
                await asyncio.to_thread(write_json_atomically, self.state_dir / f"{name}.json", document,
                                        persistence._json_default)
            except Exception:
                log.exception("saving %s failed; it is tried again", name)
                if journaled:
                    self.durability.needs_snapshot.add(name)
                return
            if segment is not None:
                self.journal.drop_through(name, segment)
            self.last_save_at = time.time()
            self.last_save_seconds = round(time.monotonic() - began, 3)

    def _journal_grown(self, name: str) -> bool:
        """Has the service's journal grown to COMPACT_RATIO of its snapshot (and at least COMPACT_BYTES)?"""
        assert self.journal is not None
        snapshot = self.state_dir / f"{name}.json"
        size = snapshot.stat().st_size if snapshot.exists() else 0
        return self.journal.bytes_written.get(name, 0) >= max(COMPACT_BYTES, size * COMPACT_RATIO)

    async def maintain_journal(self) -> None:
        """Flush records that no request waits for (MiniStack's own threads), and fold a journal into its snapshot
        when it has grown to COMPACT_RATIO of the snapshot (at least COMPACT_BYTES) or rested COMPACT_IDLE_SECONDS."""
        assert self.journal is not None and self.durability is not None
        while not self.stopping:
            await asyncio.sleep(JOURNAL_TICK)
            if self.journal.pending:
                await self.journal.sync()
            for name in JOURNALED:
                if not (self.journal.unsnapshotted.get(name) or name in self.durability.needs_snapshot):
                    continue
                grown = self._journal_grown(name)
                rested = time.time() - (self.last_change_at or 0) >= COMPACT_IDLE_SECONDS
                if grown or rested or name in self.durability.needs_snapshot:
                    await self.save_service(name)

    # ---- saving ----
    async def save(self, progress: Callable[[str], None] | None = None, also: frozenset[str] = frozenset()) -> float:
        """Save the state files marked unsaved (and those in `also`); returns the seconds it took. A file
        whose snapshot fails (a Lambda thread changed it meanwhile) stays marked and is tried again next time."""
        from ministack.app import _build_persistence_save_dict
        from ministack.core import persistence

        began, snapshot_at = time.monotonic(), time.time()  # every change acknowledged before now is in this save
        wanted, self.unsaved = self.unsaved | also, set()
        self.saving = True
        self.state_dir.mkdir(parents=True, exist_ok=True)
        saved: set[str] = set()
        try:
            for name, get_state in _build_persistence_save_dict().items():
                if not (ALL in wanted or name in wanted):
                    continue
                if progress:
                    progress(name)
                try:
                    state = get_state()  # in the event loop, where request handlers change state
                    if state is not None:
                        document = {"__ministack_format__": persistence._state_format_version(name),
                                    "payload": state}
                        # Serialising and writing a large state (50,000 albums) is slow: off the event loop.
                        await asyncio.to_thread(write_json_atomically, self.state_dir / f"{name}.json", document,
                                                persistence._json_default)
                    saved.add(name)
                except Exception:
                    log.exception("saving %s failed; it is tried again", name)
            wanted -= {ALL}  # every file was visited: what is left to retry is what failed
        finally:  # failed or not reached: still unsaved
            self.unsaved |= wanted - saved
            self.saving = False
        if not (wanted - saved):
            self.last_save_at = snapshot_at
        self._write_run_file()
        return time.monotonic() - began

    async def save_periodically(self) -> None:
        """A change is saved within a tick (0.1 s) after the state has rested from the last save for `interval`:
        single writes are saved at once, a stream of writes at most every SAVE_INTERVAL (or 2x the last save's
        duration, whichever is longer)."""
        interval, rested_since = SAVE_INTERVAL, float("-inf")  # the first change is saved at the next tick
        while not self.stopping:
            await asyncio.sleep(SAVE_TICK)
            if not self.unsaved or time.monotonic() - rested_since < interval:
                continue
            took = await self.save()
            self.last_save_seconds = round(took, 3)
            interval, rested_since = max(SAVE_INTERVAL, 2 * took), time.monotonic()

    async def _final_save_journaled(self, progress: Callable[[str], None]) -> float:
        """At stop: every small service and the Lambda logs saved whole; a journal folded into its snapshot only when
        it has grown as much as a running server would fold it at (re-serialising 50,000 albums takes seconds; the
        next start replays a small journal in a fraction of that)."""
        from ministack.app import _build_persistence_save_dict

        assert self.journal is not None and self.durability is not None
        began = time.monotonic()
        await self.journal.sync()
        for name in list(_build_persistence_save_dict()):
            if name in JOURNALED and not (self._journal_grown(name) or self.durability.changed_beyond_journal(name)):
                continue  # its snapshot and its (small) journal hold everything: the next start replays it
            progress(name)
            await self.save_service(name)
        self.journal.close()
        self.unsaved = set(self.durability.needs_snapshot)
        return time.monotonic() - began

    # ---- make watch: an open page reloads itself when the watcher says the site changed ----
    async def _site(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.site_changed is None:
            self.site_changed = asyncio.Condition()
        name, method = scope["path"][len(SITE_PATH):], scope["method"]
        if name == SITE_RELOAD_SCRIPT and method == "GET":
            return await _send_body(send, 200, RELOAD_SCRIPT.read_bytes(), b"text/javascript; charset=utf-8")
        if name == SITE_VERSION and method == "GET":
            query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
            after = int(query.get("after", ["-1"])[0]) if query.get("after", [""])[0].lstrip("-").isdigit() else -1
            if after == self.site_version:
                async with self.site_changed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.site_changed.wait(), SITE_WAIT_SECONDS)
            return await _send_body(send, 200, json.dumps({"version": self.site_version}).encode())
        if name == SITE_CHANGED and method == "POST":
            while (await receive()).get("more_body"):
                pass
            self.site_version += 1
            async with self.site_changed:
                self.site_changed.notify_all()
            return await _send_body(send, 200, json.dumps({"version": self.site_version}).encode())
        return await _send_body(send, 404, b'{"error": "not found"}')

    def _write_run_file(self) -> None:
        write_json_atomically(self.stack_dir / RUN_FILE, {**self.identity(), "lastChangeAt": self.last_change_at})

    async def final_save(self) -> None:
        """Save with progress in stop.json, refreshed every second even while one big service is being written, so
        `make down` can tell a long save (it waits) from a stuck server (it kills it)."""
        stop_file = self.stack_dir / STOP_FILE
        began = time.time()
        current = {"phase": "saving", "service": "-", "since": began}

        def progress(service: str) -> None:
            current["service"] = service
            write_json_atomically(stop_file, {**current, "beat": time.time()})

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(1)
                write_json_atomically(stop_file, {**current, "beat": time.time()})

        beating = asyncio.create_task(heartbeat())
        try:
            if self.journal is not None:
                took = await self._final_save_journaled(progress)
            else:
                # What requests changed, and the Lambda logs (written by invocations, not by requests).
                took = await self.save(progress, also=frozenset({"cloudwatch_logs"}))
                for _retry in range(3):
                    if not self.unsaved:
                        break
                    took += await self.save(progress)
        finally:
            beating.cancel()
        write_json_atomically(stop_file, {"phase": "saved", "seconds": round(took, 2)})
        log.warning("state saved at stop in %.1fs%s", took,
                    f"; NOT saved: {sorted(self.unsaved)}" if self.unsaved else "")


def cors_of(site_origin: str) -> Headers:
    """The same CORS headers as the functions' own answers (albums.http: one place for both), for the one origin the
    stack's API allows locally: the site's (the template's SiteOrigin, which the bootstrap sets to origin() too)."""
    return [(name.lower().encode(), value.encode()) for name, value in cors_headers(site_origin).items()]


async def _send_body(send: Send, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})


async def _send_error(send: Send, cors: Headers, status: int, code: str, message: str) -> None:
    """Our JSON error shape (albums.http's), readable cross-origin, with a hint when to retry."""
    body = json.dumps(error_body(code, message)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", RETRY_AFTER_SECONDS.encode()), *cors]})
    await send({"type": "http.response.body", "body": body})


class _GatewayErrors:
    """Replaces a 429/5xx that carries no CORS header (so the function did not write it: the gateway did, e.g.
    `Task timed out after 10.00 seconds` or a throttle) with our JSON error, CORS and Retry-After."""

    def __init__(self, send: Send, cors: Headers) -> None:
        self.send = send
        self.cors = cors
        self.replaced = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            status = message["status"]
            has_cors = any(k.lower() == b"access-control-allow-origin" for k, _ in message.get("headers", []))
            if (status == 429 or status >= 500) and not has_cors:  # 429 and our 503: the call did not run
                self.replaced = True
                log.warning("API Gateway answered %s without CORS: replaced by a readable error", status)
                if status == 429:
                    return await _send_error(self.send, self.cors, 429, "throttled",
                                             "Too many requests; please retry.")
                # Not a 503: the function may have run, so this is not one a client should blindly repeat.
                return await _send_error(self.send, self.cors, status, "gateway_error",
                                         "The function failed or did not answer in time; please try again.")
        elif self.replaced:
            return None  # the body of the response we replaced
        await self.send(message)


def _clean_end(stack_dir: Path) -> None:
    """The run file's absence is what tells the next start that this run ended cleanly."""
    run_file = stack_dir / RUN_FILE
    if run_file.exists():
        document = json.loads(run_file.read_text())
        write_json_atomically(stack_dir / LAST_RUN_FILE, {**document, "endedAt": time.time(), "clean": True})
        run_file.unlink()


async def serve(stack_dir: Path, host: str, port: int) -> None:
    import ministack.app
    import ministack_fix_accounts  # noqa: F401 -- accounts: PostConfirmation, attribute updates, group memberships
    import ministack_fixes  # noqa: F401 -- MiniStack fidelity fixes (this folder is on the path: we run by path)
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    server = StackServer(stack_dir, Path(os.environ["STATE_DIR"]), port)
    if DURABILITY == "journal":
        server.use_journal()
    elif any((server.state_dir / "journal").glob("*.log")):
        server.fold_leftover_journal = True  # a journaled run's: replayed and saved before serving (see _replay)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)

    async def shutdown_trigger() -> None:
        await stopping.wait()
        server.stopping = True
        await saver  # lets a save in progress finish: a cancelled one would leave its writer thread running
        await server.final_save()
        ministack.app.PERSIST_STATE = False  # its own save at shutdown would only repeat ours

    config = Config()
    config.bind = [f"{host}:{port}"]
    config.keep_alive_timeout = 75
    config.graceful_timeout = 5
    config.loglevel = os.environ.get("LOG_LEVEL", "WARNING")
    server._write_run_file()
    saver = asyncio.create_task(server.maintain_journal() if server.journal else server.save_periodically())
    # cast: our ASGI shapes are plain dicts (see App); hypercorn spells every event as its own TypedDict.
    await hypercorn_serve(cast("ASGIFramework", server), config, shutdown_trigger=shutdown_trigger)
    _clean_end(stack_dir)


def main() -> None:
    stack_dir, host, port = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    for variable in STACK_DIRS:  # MiniStack's state, S3 and temp dirs: in a container nobody made them before
        Path(os.environ[variable]).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
    asyncio.run(serve(stack_dir, host, port))


if __name__ == "__main__":
    main()
