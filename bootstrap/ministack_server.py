"""MiniStack in ONE process that we own: identity, saving while running, a stop that saves.

`python -m bootstrap.ministack_server` (started by `bootstrap.emulator`, never by hand) serves `ministack.app:app`
with hypercorn in this process, so the pid we record IS the server (`python -m hypercorn` forks a child that keeps
serving when its master is killed). Around MiniStack's ASGI app it adds:

- `GET /_stack/identity`: which stack dir, pid and instance serve this port, so `up`/`down`/`status` can tell our
  stack from another clone's on the same port.
- Saving while running. MiniStack 1.5.33 writes its state only at a graceful stop. We save the state files a
  request may have changed (its SigV4 service or X-Amz-Target names them; the Lambda logs wait for the stop) soon
  after the change: within a 0.1 s tick once the last save is SAVE_INTERVAL old, so one write is saved at once and a
  stream of writes about once a second (the interval stretches to 2x the last save's duration, so a big state
  never starves requests). A snapshot is taken in the event loop (where the services mutate their state, so it is
  consistent per service), then written to `<service>.json.tmp`, fsynced and renamed over `<service>.json`, so a
  crash mid-save leaves the previous file whole.
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
  off: ours is the one). Check these internals (`_build_persistence_save_dict`, `persistence._json_default`) on
  every MiniStack upgrade.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # hypercorn itself is imported only by serve()
    from hypercorn.typing import ASGIFramework

# ASGI's shapes (the spec's scope, messages and callables), spelled here: no ASGI typing package is pinned.
Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

IDENTITY_PATH = "/_stack/identity"
RUN_FILE = "running.json"
STOP_FILE = "stop.json"
LAST_RUN_FILE = "last-run.json"
SAVE_INTERVAL = float(os.environ.get("STACK_SAVE_INTERVAL", "1.0"))
SAVE_TICK = 0.1
API_CONCURRENCY = int(os.environ.get("STACK_API_CONCURRENCY", "4"))
API_QUEUE_SECONDS = float(os.environ.get("STACK_API_QUEUE_SECONDS", "8"))
RETRY_AFTER_SECONDS = "1"


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


def _state_files_changed_by(scope: Scope) -> set[str]:
    headers = dict(scope["headers"])
    scope_match = _CREDENTIAL_SCOPE.search(headers.get(b"authorization", b""))
    service = scope_match.group(1).decode() if scope_match else \
        headers.get(b"x-amz-target", b"").decode("latin-1").split(".", 1)[0]
    return _STATE_FILES.get(service, {ALL})  # unknown: mark everything, saving too much rather than too little


def write_json_atomically(path: Path, document: object, default: Callable[[Any], Any] | None = None) -> None:
    """Temp file + fsync + rename: a reader (or the next start) sees the old file or the new one, never half."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w") as handle:
        json.dump(document, handle, default=default)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class StackServer:
    def __init__(self, stack_dir: Path, state_dir: Path) -> None:
        self.stack_dir = stack_dir
        self.state_dir = state_dir
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

    # ---- ASGI ----
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from ministack.app import app

        ministack_app: App = app  # an untyped module: say what it is
        if scope["type"] != "http":
            return await ministack_app(scope, receive, send)
        if scope["path"] == IDENTITY_PATH:
            return await self._identity(send)
        if _is_api_call(scope["path"]) and scope["method"] != "OPTIONS":
            return await self._api_call(scope, receive, send, ministack_app)
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
            return await _send_error(send, 503, "busy", "The local stack is busy; please retry in a moment.")
        try:
            await ministack_app(scope, receive, _GatewayErrors(send))
        finally:
            self.api_gate.release()

    @staticmethod
    def _is_read(scope: Scope) -> bool:
        if scope["method"] in _READ_METHODS:
            return True
        target = next((v for k, v in scope["headers"] if k == b"x-amz-target"), b"").decode("latin-1")
        return bool(target) and target.rsplit(".", 1)[-1].startswith(_READ_ACTION_PREFIXES)

    async def _identity(self, send: Send) -> None:
        body = json.dumps(self.identity()).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def identity(self) -> dict[str, Any]:
        return {"stackDir": str(self.stack_dir), "pid": os.getpid(), "instance": self.instance,
                "startedAt": self.started_at, "lastSaveAt": self.last_save_at,
                "lastSaveSeconds": self.last_save_seconds, "allSaved": not (self.unsaved or self.saving)}

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


_CORS = [(b"access-control-allow-origin", b"*"),
         (b"access-control-allow-headers", b"Content-Type,Authorization"),
         (b"access-control-allow-methods", b"GET,POST,PUT,DELETE,OPTIONS")]


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    """Our JSON error shape (as albums.http writes it), readable cross-origin, with a hint when to retry."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", RETRY_AFTER_SECONDS.encode()), *_CORS]})
    await send({"type": "http.response.body", "body": body})


class _GatewayErrors:
    """Replaces a 429/5xx that carries no CORS header (so the function did not write it: the gateway did, e.g.
    `Task timed out after 10.00 seconds` or a throttle) with our JSON error, CORS and Retry-After."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.replaced = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            status = message["status"]
            has_cors = any(k.lower() == b"access-control-allow-origin" for k, _ in message.get("headers", []))
            if (status == 429 or status >= 500) and not has_cors:  # 429 and our 503: the call did not run
                self.replaced = True
                log.warning("API Gateway answered %s without CORS: replaced by a readable error", status)
                if status == 429:
                    return await _send_error(self.send, 429, "throttled", "Too many requests; please retry.")
                # Not a 503: the function may have run, so this is not one a client should blindly repeat.
                return await _send_error(self.send, status, "gateway_error",
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
    import ministack_fixes  # noqa: F401 -- MiniStack fidelity fixes (this folder is on the path: we run by path)
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    server = StackServer(stack_dir, Path(os.environ["STATE_DIR"]))
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
    saver = asyncio.create_task(server.save_periodically())
    # cast: our ASGI shapes are plain dicts (see App); hypercorn spells every event as its own TypedDict.
    await hypercorn_serve(cast("ASGIFramework", server), config, shutdown_trigger=shutdown_trigger)
    _clean_end(stack_dir)


def main() -> None:
    stack_dir, host, port = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
    asyncio.run(serve(stack_dir, host, port))


if __name__ == "__main__":
    main()
