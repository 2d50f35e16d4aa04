"""Run MiniStack, the embedded local cloud, as a background process whose state lives in the stack dir.

We start hypercorn ourselves (as `ministack -d` does) so that the pid file, log and every temp/state dir stay inside
the project, and so that stop is a SIGTERM followed by a wait: MiniStack saves its state only on a graceful stop.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bootstrap.errors import StackError

HEALTH_PATH = "/_ministack/health"


@dataclass(frozen=True)
class Emulator:
    stack_dir: Path
    port: int
    host: str = "127.0.0.1"  # loopback only: nothing of ours listens beyond this machine

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.stack_dir / "ministack.pid"

    @property
    def log_file(self) -> Path:
        return self.stack_dir / "ministack.log"

    def environment(self) -> dict[str, str]:
        dirs = {name: self.stack_dir / name for name in ("state", "s3", "tmp")}
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        return {
            **_inherited_environment(),
            "BIND_HOST": self.host,
            "GATEWAY_PORT": str(self.port),
            "MINISTACK_HOST": self.host,
            "AUTH": "true",  # confirmation codes and IAM policies are really checked
            "PERSIST_STATE": "1",
            "S3_PERSIST": "1",
            "STATE_DIR": str(dirs["state"]),
            "S3_DATA_DIR": str(dirs["s3"]),
            "TMPDIR": str(dirs["tmp"]),
            "IOT_MTLS_ENABLED": "0",  # its IoT listener would bind 0.0.0.0:8883
            "SFTP_ENABLED": "0",
            "LOG_LEVEL": os.environ.get("MINISTACK_LOG_LEVEL", "WARNING"),
        }

    def healthy(self, timeout: float = 1.0) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint + HEALTH_PATH, timeout=timeout) as response:
                return response.status == 200 and bool(json.load(response))
        except (OSError, ValueError):
            return False

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def start(self, wait_seconds: float = 30.0) -> bool:
        """Start unless already running. Returns True when this call started it."""
        if self.healthy():
            if self.pid() is None:  # never deploy into somebody else's emulator (another clone, another STACK_DIR)
                raise StackError(f"port {self.port} is already served by something that is not the MiniStack of "
                                 f"{self.stack_dir}: stop it, or choose another port (make up PORT=4577)")
            return False
        self.stack_dir.mkdir(parents=True, exist_ok=True)
        # MiniStack leaves its Lambda workers' unpacked code in TMPDIR at shutdown; a new start never reuses it.
        for leftover in (self.stack_dir / "tmp").glob("ministack-lambda-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        # bootstrap.ministack_app is MiniStack's app plus one fidelity fix (see that module).
        command = [sys.executable, "-m", "hypercorn", "bootstrap.ministack_app:app",
                   "--bind", f"{self.host}:{self.port}", "--keep-alive", "75"]
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=self.environment(), cwd=self.stack_dir, start_new_session=True)
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)  # a stale pid could later name an unrelated process
                raise StackError(f"MiniStack exited at start (is port {self.port} in use?); see {self.log_file}")
            if self.healthy(timeout=0.5):
                return True
            time.sleep(0.1)
        process.terminate()
        self.pid_file.unlink(missing_ok=True)
        raise StackError(f"MiniStack did not become healthy in {wait_seconds:.0f}s; see {self.log_file}")

    def stop(self, wait_seconds: float = 30.0, hard: bool = False) -> bool:
        """Graceful stop (SIGTERM, then wait) so MiniStack writes its state. Returns True if it was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        if hard:  # what a crash looks like: the server and its Lambda workers die without saving
            os.killpg(pid, signal.SIGKILL)
        else:  # SIGTERM to the server alone: it saves state and stops its workers itself
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.1)
        else:
            raise StackError(f"MiniStack (pid {pid}) did not stop in {wait_seconds:.0f}s; see {self.log_file}")
        self.pid_file.unlink(missing_ok=True)
        return True


# MiniStack passes its environment on to the Lambda workers: keep the developer's AWS credentials, profile and log
# settings out of them, so a function behaves the same here as on AWS.
_INHERITED = ("PATH", "HOME", "LANG", "TZ", "SYSTEMROOT", "SSL_CERT_FILE", "SSL_CERT_DIR")


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
    return True
