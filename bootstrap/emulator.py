"""Run MiniStack, the embedded local cloud, as a background process whose state lives in the stack dir.

The process is our own server (`ministack_server.py`: MiniStack's app in one process, no hypercorn master/child),
so the pid file names the process that serves the port, and the server can be asked which stack dir it belongs to
(`/_stack/identity`). Every temp/state dir stays in the stack dir. It saves its state while running; stop is a
SIGTERM followed by a wait for as long as the final save makes progress, then nothing of the stack is left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from bootstrap.errors import StackError
from bootstrap.server_protocol import (
    IDENTITY_PATH,
    LOOPBACK,
    RUN_FILE,
    SERVER_SETTINGS,
    STACK_DIRS,
    STOP_FILE,
    origin,
)

HEALTH_PATH = "/_ministack/health"
UNCLEAN_END_FILE = "unclean-end.json"  # a run file found at start, kept until `up` has reported it
SERVER_SCRIPT = Path(__file__).resolve().with_name("ministack_server.py")
STUCK_SECONDS = 60  # a stopping server that shows no progress for this long is killed


def server_environment(stack_dir: str, bind_host: str, port: str) -> dict[str, str]:
    """What the server is run with, besides the few variables of the developer's it keeps (see _INHERITED). Strings:
    docker-compose.yml's `ministack` service sets the same for its paths and port (a unit test compares them)."""
    return {
        "BIND_HOST": bind_host,
        "GATEWAY_PORT": port,
        "MINISTACK_HOST": LOOPBACK,  # the host in the URLs MiniStack hands out: where it is reached (see origin())
        "AUTH": "true",  # confirmation codes and IAM policies are really checked
        "PERSIST_STATE": "1",
        "S3_PERSIST": "1",
        **{variable: f"{stack_dir}/{name}" for variable, name in STACK_DIRS.items()},
        "IOT_MTLS_ENABLED": "0",  # its IoT listener would bind 0.0.0.0:8883
        "SFTP_ENABLED": "0",
        "LOG_LEVEL": os.environ.get("MINISTACK_LOG_LEVEL", "WARNING"),
        # MiniStack's cap on Lambda executions in flight (default: from memory, ~570 here). Our server admits only a
        # few API calls at once (STACK_API_CONCURRENCY), so this only bounds direct invokes; past it an invoke is
        # throttled (429, made readable and retried by the page) rather than starting a 17th worker.
        "LAMBDA_ACCOUNT_CONCURRENCY": "16",
    }


@dataclass(frozen=True)
class Emulator:
    stack_dir: Path
    port: int
    host: str = LOOPBACK  # the address the server binds: loopback only, nothing of ours listens beyond this machine

    @property
    def endpoint(self) -> str:
        return origin(self.port)

    @property
    def pid_file(self) -> Path:
        return self.stack_dir / "ministack.pid"

    @property
    def log_file(self) -> Path:
        return self.stack_dir / "ministack.log"

    def environment(self) -> dict[str, str]:
        return {**_inherited_environment(), **server_environment(str(self.stack_dir), self.host, str(self.port))}

    def command(self, python: str = sys.executable) -> list[str]:
        """How the server is run (docker-compose.yml's `ministack` service runs the same, a unit test checks it): by
        path, so that only it, not the Lambda workers it starts, has this repository on its import path."""
        return [python, str(SERVER_SCRIPT), str(self.stack_dir.resolve()), self.host, str(self.port)]

    def healthy(self, timeout: float = 1.0) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint + HEALTH_PATH, timeout=timeout) as response:
                return response.status == 200 and bool(json.load(response))
        except (OSError, ValueError):
            return False

    def identity(self, timeout: float = 1.0) -> dict[str, Any] | None:
        """Who serves the port: the stack dir, pid and instance our server reports; None if nothing of ours."""
        try:
            with urllib.request.urlopen(self.endpoint + IDENTITY_PATH, timeout=timeout) as response:
                document = json.load(response)
        except (OSError, ValueError):
            return None
        return document if isinstance(document, dict) and "stackDir" in document else None

    def serves_us(self, identity: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
        return identity is not None and Path(identity["stackDir"]) == self.stack_dir.resolve()

    def pid(self) -> int | None:
        """The server's pid: asked of the server itself, else the pid file (a server busy saving may not answer)."""
        identity = self.identity()
        if self.serves_us(identity):
            return int(identity["pid"])
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) and _is_our_server(pid, self.stack_dir) else None

    def refuse_foreign(self, identity: dict[str, Any] | None) -> None:
        if identity is not None and not self.serves_us(identity):
            raise StackError(f"port {self.port} is served by the MiniStack of {identity['stackDir']} (pid "
                             f"{identity['pid']}), not of {self.stack_dir}: stop that one, or choose another port "
                             "(make up PORT=4577)")
        # Healthy without an identity, yet our server of this dir by the pid file: one too busy to answer in time,
        # which start() and stop() handle as ours.
        if identity is None and self.healthy() and self.pid() is None:
            raise StackError(f"port {self.port} is already served by something that is not the MiniStack of "
                             f"{self.stack_dir}: stop it, or choose another port (make up PORT=4577)")

    def start(self, wait_seconds: float = 30.0) -> bool:
        """Start unless already running. Returns True when this call started it."""
        identity = self.identity(timeout=3.0)  # a server busy taking a snapshot may answer late
        self.refuse_foreign(identity)  # never deploy into somebody else's emulator (another clone, another STACK_DIR)
        if self.serves_us(identity):
            self.pid_file.write_text(str(identity["pid"]))  # the pid file follows the server, whatever happened to it
            return False
        self.stack_dir.mkdir(parents=True, exist_ok=True)
        self._reap_leftovers()
        run_file = self.stack_dir / RUN_FILE
        if run_file.exists():  # the last run did not stop cleanly: keep what it knew for `unclean_end()`
            os.replace(run_file, self.stack_dir / UNCLEAN_END_FILE)
        # MiniStack leaves its Lambda workers' unpacked code in TMPDIR at shutdown; a new start never reuses it.
        for leftover in (self.stack_dir / STACK_DIRS["TMPDIR"]).glob("ministack-lambda-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        (self.stack_dir / STOP_FILE).unlink(missing_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=self.environment(), cwd=self.stack_dir, start_new_session=True)
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)  # a stale pid could later name an unrelated process
                raise StackError(f"MiniStack exited at start (is port {self.port} in use?); see {self.log_file}")
            if self.serves_us(self.identity(timeout=0.5)):
                return True
            time.sleep(0.1)
        _kill_group(process.pid)
        self.pid_file.unlink(missing_ok=True)
        raise StackError(f"MiniStack did not become healthy in {wait_seconds:.0f}s; see {self.log_file}")

    def unclean_end(self, forget: bool = False) -> UncleanEnd | None:
        """The run file a start found left behind: the last run did not stop cleanly (killed, crashed, power off).
        `forget` removes it once it has been reported."""
        path = self.stack_dir / UNCLEAN_END_FILE
        try:
            run = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if forget:
            path.unlink(missing_ok=True)
        replayed = (self.identity() or {}).get("replayed") if run.get("durability") == "journal" else None
        return UncleanEnd(started_at=run.get("startedAt"), last_save_at=run.get("lastSaveAt"),
                          journaled=run.get("durability") == "journal", replayed=replayed)

    def _reap_leftovers(self) -> None:
        """A killed server can leave its Lambda workers (same process group) running: end them before a start.
        A server of this stack dir that is alive but did not answer on our port is never killed here: two servers
        on one state dir would overwrite each other's saves."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        if _is_our_server(pid, self.stack_dir):
            where = _server_port(pid)
            hint = (f"it serves port {where}: `make down PORT={where}`" if where and where != self.port
                    else "`make down` stops it")
            raise StackError(f"the MiniStack of {self.stack_dir} (pid {pid}) is running but does not answer on "
                             f"port {self.port}; {hint}")
        if _group_is_ours(pid, self.stack_dir):
            _kill_group(pid)

    def stop(self, wait_seconds: float | None = None, hard: bool = False,
             report: Callable[[str], None] | None = None) -> bool:
        """Graceful stop: SIGTERM, then wait while it saves (as long as that takes), then make sure nothing of the
        stack is left running. Returns True if it was running. `report(line)` is told what is happening."""
        pid = self.pid()
        if pid is None:
            self.refuse_foreign(self.identity())
            if self.pid_file.exists():
                self._reap_leftovers()
            self.pid_file.unlink(missing_ok=True)
            return False
        if hard:  # what a crash looks like: the server and its Lambda workers die without saving
            _kill_group(pid)
            _wait_gone(pid, 10)
            self.pid_file.unlink(missing_ok=True)
            return True
        os.kill(pid, signal.SIGTERM)  # our server saves, then MiniStack stops its workers itself
        if report:
            report(f"Stopping MiniStack (pid {pid}): saving its state first …")
        self._wait_for_exit(pid, wait_seconds or STUCK_SECONDS, report)
        _kill_group(pid)  # any worker that outlived the server
        self.pid_file.unlink(missing_ok=True)
        return True

    def _wait_for_exit(self, pid: int, stuck_seconds: float, report: Callable[[str], None] | None) -> None:
        """Wait while the final save makes progress, however long; kill only a server that shows none for a while."""
        began = last_progress = time.monotonic()
        last_said, seen = 0.0, None
        while _alive(pid):
            progress = self._stop_progress()
            if progress != seen:
                seen, last_progress = progress, time.monotonic()
            elapsed = time.monotonic() - began
            if report and progress and progress.get("phase") == "saving" and elapsed - last_said >= 2:
                report(f"  saving state ({progress.get('service')}) … {elapsed:.0f}s")
                last_said = elapsed
            if time.monotonic() - last_progress > stuck_seconds:
                saved = bool(progress and progress.get("phase") == "saved")
                if report:
                    report(f"  MiniStack did not exit {'after saving' if saved else 'and did not save'}: killing it")
                _kill_group(pid)
                _wait_gone(pid, 10)
                if not saved:
                    self.pid_file.unlink(missing_ok=True)
                    raise StackError(f"MiniStack (pid {pid}) showed no progress saving for {stuck_seconds:.0f}s "
                                     f"and was killed; see {self.log_file}")
                return
            time.sleep(0.1)

    def lambda_workers(self, function: str) -> list[int]:
        """Pids of the worker processes MiniStack runs for a function of this stack (for fault benchmarks)."""
        marker, root = f"ministack-lambda-{function}-".encode(), str(self.stack_dir.resolve()).encode()
        pids = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                command = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if marker in command and root in command:
                pids.append(int(proc.name))
        return pids

    def _stop_progress(self) -> dict[str, Any] | None:
        try:
            progress: dict[str, Any] = json.loads((self.stack_dir / STOP_FILE).read_text())
            return progress
        except (OSError, ValueError):
            return None


@dataclass(frozen=True)
class UncleanEnd:
    """What the next start knows about a run that ended without a clean stop."""

    started_at: float | None
    last_save_at: float | None
    journaled: bool = False  # the run kept a write-ahead journal: everything it acknowledged is back
    replayed: dict[str, int] | None = None

    def describe(self) -> str:
        if self.journaled:
            count = sum((self.replayed or {}).values())
            return ("the previous MiniStack run did not stop cleanly (killed or crashed); nothing it acknowledged "
                    f"was lost ({count} change(s) replayed from its journal)")
        if self.last_save_at is None:
            return (f"the previous MiniStack run (started {_clock(self.started_at)}) did not stop cleanly and never "
                    "saved: changes made since it started are lost")
        return (f"the previous MiniStack run did not stop cleanly (killed or crashed): its state is back as saved at "
                f"{_clock(self.last_save_at)}; changes after that moment are lost")


def _clock(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp)) if stamp else "an unknown time"


# MiniStack passes its environment on to the Lambda workers: keep the developer's AWS credentials, profile and log
# settings out of them, so a function behaves the same here as on AWS.
_INHERITED = ("PATH", "HOME", "LANG", "TZ", "SYSTEMROOT", "SSL_CERT_FILE", "SSL_CERT_DIR",
              *SERVER_SETTINGS)  # our server's own knobs


def _inherited_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in _INHERITED or k.startswith("LC_")}


def _alive(pid: int) -> bool:
    try:
        # Reap it if it is our own child (a benchmark starts and stops it in one process), else it stays a zombie.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (dead, not yet reaped by the process that started it) is not alive
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_our_server(pid: int, stack_dir: Path) -> bool:
    """A pid file can outlive its process and the pid be reused: check that the process is our server of this dir."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:  # no /proc (macOS): trust the pid file
        return _alive(pid)
    return str(SERVER_SCRIPT).encode() in command and str(stack_dir.resolve()).encode() in command


def _server_port(pid: int) -> int | None:
    """The port a server of ours was started on (its last argument)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        return int([part for part in command if part][-1])
    except (OSError, ValueError, IndexError):
        return None


def _group_is_ours(pgid: int, stack_dir: Path) -> bool:
    """Is any process of this group working inside the stack dir (a Lambda worker of our killed server)?"""
    root = str(stack_dir.resolve())
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if os.getpgid(int(proc.name)) == pgid and os.readlink(proc / "cwd").startswith(root):
                return True
        except (OSError, ValueError):
            continue
    return False


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)


def _wait_gone(pid: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
