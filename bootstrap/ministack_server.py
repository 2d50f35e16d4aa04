"""MiniStack in ONE process that we own: identity, saving while running, a stop that saves.

`python -m bootstrap.ministack_server` (started by `bootstrap.emulator`, never by hand) serves `ministack.app:app`
with hypercorn in this process, so the pid we record IS the server (`python -m hypercorn` forks a child that keeps
serving when its master is killed). Around MiniStack's ASGI app it adds:

- `GET /_stack/identity`: which stack dir, pid and instance serve this port, so `up`/`down`/`status` can tell our
  stack from another clone's on the same port.
- Saving while running. MiniStack 1.5.33 writes its state only at a graceful stop. We save every service whose
  state may have changed, at most every SAVE_INTERVAL seconds (stretched to 2x the last save's duration so a big
  state never starves requests): a snapshot is taken in the event loop (where the services mutate their state, so
  it is consistent per service), then written to `<service>.json.tmp`, fsynced and renamed over `<service>.json`,
  so a crash mid-save leaves the previous file whole.
- A run file (`running.json`) that exists only while the server runs and records its last save; the next start
  finds it after a crash and reports what was lost.
- On SIGTERM: one final save with progress in `stop.json`, then MiniStack's own shutdown (its save is switched
  off: ours is the one). Check these internals (`_build_persistence_save_dict`, `persistence._json_default`) on
  every MiniStack upgrade.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path

IDENTITY_PATH = "/_stack/identity"
RUN_FILE = "running.json"
STOP_FILE = "stop.json"
LAST_RUN_FILE = "last-run.json"
SAVE_INTERVAL = float(os.environ.get("STACK_SAVE_INTERVAL", "1.0"))
# Methods and API actions that never change state: every other request marks the state as changed.
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}
_READ_ACTION_PREFIXES = ("Get", "List", "Describe", "BatchGet", "Query", "Scan", "FilterLogEvents")

log = logging.getLogger("stack")


def write_json_atomically(path: Path, document: object, default=None) -> None:
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
        self.changes = 0  # requests that may have changed state, counted when their response starts
        self.saved_changes = 0
        self.last_save_at: float | None = None
        self.last_change_at: float | None = None

    # ---- ASGI ----
    async def __call__(self, scope, receive, send):
        from ministack.app import app as ministack_app

        if scope["type"] != "http":
            return await ministack_app(scope, receive, send)
        if scope["path"] == IDENTITY_PATH:
            return await self._identity(send)
        if not self._is_read(scope):
            async def send_and_count(message):
                if message["type"] == "http.response.start":  # after the service changed its state
                    self.changes += 1
                    self.last_change_at = time.time()
                await send(message)
            return await ministack_app(scope, receive, send_and_count)
        return await ministack_app(scope, receive, send)

    @staticmethod
    def _is_read(scope) -> bool:
        if scope["method"] in _READ_METHODS:
            return True
        target = next((v for k, v in scope["headers"] if k == b"x-amz-target"), b"").decode("latin-1")
        return bool(target) and target.rsplit(".", 1)[-1].startswith(_READ_ACTION_PREFIXES)

    async def _identity(self, send) -> None:
        body = json.dumps(self.identity()).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def identity(self) -> dict:
        return {"stackDir": str(self.stack_dir), "pid": os.getpid(), "instance": self.instance,
                "startedAt": self.started_at, "lastSaveAt": self.last_save_at}

    # ---- saving ----
    async def save(self, progress=None) -> float:
        """Save every service that has state; returns the seconds it took."""
        from ministack.app import _build_persistence_save_dict
        from ministack.core import persistence

        began = time.monotonic()
        changes = self.changes
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for name, get_state in _build_persistence_save_dict().items():
            if progress:
                progress(name)
            state = get_state()  # in the event loop: services change their state there, so this is consistent
            if state is None:
                continue
            document = {"__ministack_format__": persistence._state_format_version(name), "payload": state}
            # Serialising and writing a large state (50,000 albums) is slow: off the event loop.
            await asyncio.to_thread(write_json_atomically, self.state_dir / f"{name}.json", document,
                                    persistence._json_default)
        self.saved_changes = changes
        self.last_save_at = time.time()
        self._write_run_file()
        return time.monotonic() - began

    async def save_periodically(self) -> None:
        interval = SAVE_INTERVAL
        while True:
            await asyncio.sleep(interval)
            if self.changes == self.saved_changes:
                continue
            try:
                took = await self.save()
            except Exception:  # a failed save is retried at the next tick; the last good files stay
                log.exception("periodic save failed")
                continue
            interval = max(SAVE_INTERVAL, 2 * took)

    def _write_run_file(self) -> None:
        write_json_atomically(self.stack_dir / RUN_FILE, {**self.identity(), "lastChangeAt": self.last_change_at})

    async def final_save(self) -> None:
        stop_file = self.stack_dir / STOP_FILE
        began = time.time()

        def progress(service: str) -> None:
            write_json_atomically(stop_file, {"phase": "saving", "service": service, "since": began})

        took = await self.save(progress) if self.changes != self.saved_changes else 0.0
        write_json_atomically(stop_file, {"phase": "saved", "seconds": round(took, 2)})
        log.warning("state saved at stop in %.1fs (nothing unsaved: %s)", took, took == 0.0)


def _clean_end(stack_dir: Path) -> None:
    """The run file's absence is what tells the next start that this run ended cleanly."""
    run_file = stack_dir / RUN_FILE
    if run_file.exists():
        document = json.loads(run_file.read_text())
        write_json_atomically(stack_dir / LAST_RUN_FILE, {**document, "endedAt": time.time(), "clean": True})
        run_file.unlink()


async def serve(stack_dir: Path, host: str, port: int) -> None:
    import ministack.app
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    server = StackServer(stack_dir, Path(os.environ["STATE_DIR"]))
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)

    async def shutdown_trigger() -> None:
        await stopping.wait()
        saver.cancel()
        await server.final_save()
        ministack.app.PERSIST_STATE = False  # its own save at shutdown would only repeat ours

    config = Config()
    config.bind = [f"{host}:{port}"]
    config.keep_alive_timeout = 75
    config.graceful_timeout = 5
    config.loglevel = os.environ.get("LOG_LEVEL", "WARNING")
    server._write_run_file()
    saver = asyncio.create_task(server.save_periodically())
    await hypercorn_serve(server, config, shutdown_trigger=shutdown_trigger)
    _clean_end(stack_dir)


def main() -> None:
    stack_dir, host, port = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
    asyncio.run(serve(stack_dir, host, port))


if __name__ == "__main__":
    main()
