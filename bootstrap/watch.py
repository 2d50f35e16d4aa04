"""`make watch`: beside a running local stack, a saved file is live within a second.

    python -m bootstrap.watch [--root DIR] [--interval SECONDS]

- `lambdas/`: the saved package is compiled first (a syntax error is reported with its file and line, and the
  functions keep the last good code); then the one zip every function bundles is built and each function's code is
  replaced directly (UpdateFunctionCode, as `sam sync --watch` does), so the next API call runs it.
- `frontend/`: the saved (or deleted) file is put in (or removed from) the site's bucket, and every open page reloads
  itself: the pages uploaded while watching carry one extra script, served by our local server
  (bootstrap/watch_reload.js), that waits for the server to say the site changed. It is added only here, only to the
  local bucket: what `make up` and `make deploy` upload never has it, and Ctrl-C puts the plain pages back.
- `template.yaml`: the stack is redeployed (`bootstrap.stack.deploy`: change set, site, outputs).

Changes are found by polling modification times (stdlib only), every 50 ms. One line per action, with its time.
`--root` watches another copy of the repository's `lambdas/` and `frontend/` (the tests' throwaway copies); the stack
is always the one of STACK_DIR / PORT.
"""

from __future__ import annotations

import argparse
import mimetypes
import os
import shutil
import signal
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from bootstrap import debug, functions, site, stack
from bootstrap import template as tpl
from bootstrap.access import StackNotRunning
from bootstrap.access import outputs as stack_outputs
from bootstrap.errors import StackError
from bootstrap.server_protocol import SITE_CHANGED, SITE_PATH, SITE_RELOAD_SCRIPT, SITE_VERSION
from bootstrap.target import ROOT, Target, resolve

# The script learns where to wait for a change from its own tag: the path is spelled once, in server_protocol.
RELOAD_TAG = (f'<script src="{SITE_PATH}{SITE_RELOAD_SCRIPT}" data-version-url="{SITE_PATH}{SITE_VERSION}" defer>'
              '</script>').encode()
SITE_CHANGED_PATH = SITE_PATH + SITE_CHANGED
_SKIPPED = {"__pycache__", ".DS_Store"}


def stamp() -> str:
    now = time.time()
    return time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"


@dataclass
class Tree:
    """Modification times of the files under some folders, to find what was saved since the last look."""

    roots: tuple[Path, ...]
    seen: dict[Path, int] = field(default_factory=dict)

    def scan(self) -> dict[Path, int]:
        found: dict[Path, int] = {}
        for root in self.roots:
            if root.is_file():
                found[root] = root.stat().st_mtime_ns
                continue
            for folder, dirs, files in os.walk(root):
                dirs[:] = [d for d in dirs if d not in _SKIPPED and not d.startswith(".")]
                for name in files:
                    if name in _SKIPPED or name.endswith((".pyc", "~", ".swp", ".tmp")) or name.startswith(".#"):
                        continue
                    path = Path(folder, name)
                    try:
                        found[path] = path.stat().st_mtime_ns
                    except OSError:  # removed between the listing and the look
                        continue
        return found

    def changes(self) -> tuple[set[Path], set[Path]]:
        """(saved or added, removed) since the last call."""
        now = self.scan()
        changed = {path for path, mtime in now.items() if self.seen.get(path) != mtime}
        removed = set(self.seen) - set(now)
        self.seen = now
        return changed, removed


class Watch:
    def __init__(self, target: Target, root: Path, out: Callable[[str], None] = print) -> None:
        self.target = target
        self.root = root
        self.out = out
        self.outputs: dict[str, Any] = stack_outputs(target.stack_dir)
        self.lambdas = root / "lambdas"
        self.frontend = root / "frontend"
        self.template = root / "template.yaml"
        self.tree = Tree((self.lambdas, self.frontend, self.template))
        self.function_names = [f.name for f in tpl.functions()]
        self.build_dir = target.stack_dir / f"build-watch-{os.getpid()}"  # two watchers never share one
        self.connect_src = site.connect_sources(target, self.outputs["ApiUrl"])
        if root != ROOT:  # a throwaway copy (tests): the zip is built from its package, not the repository's
            functions.PACKAGE_DIR = self.lambdas / "albums"
            functions.REQUIREMENTS = self.lambdas / "requirements.txt"

    def say(self, text: str) -> None:
        self.out(f"{stamp()}  {text}")

    # ---- the loop ----
    def run(self, interval: float = 0.05, stop: Callable[[], bool] = lambda: False) -> None:
        self.tree.changes()  # what is there now is what runs now
        for function in debug.restore_left_over(self.target):
            self.say(f"{function}: the configuration a killed `make debug` left is put back")
        self.pages(reload_script=True)
        self.say(f"watching {self._rel(self.lambdas)}/, {self._rel(self.frontend)}/ and {self._rel(self.template)} "
                 f"for the stack at {self.target.endpoint} (Ctrl-C stops)")
        try:
            while not stop():
                time.sleep(interval)
                changed, removed = self.tree.changes()
                if changed or removed:
                    time.sleep(0.02)  # an editor's save can be two writes: take them together
                    more, gone = self.tree.changes()
                    self.handle(changed | more, (removed | gone) - more)
        finally:
            self.pages(reload_script=False)
            shutil.rmtree(self.build_dir, ignore_errors=True)

    def handle(self, changed: set[Path], removed: set[Path]) -> None:
        every = changed | removed
        if self.template in every:
            self.redeploy()
        code = sorted(p for p in every if self._under(p, self.lambdas))
        if code:
            self.update_functions(code)
        pages = sorted(p for p in every if self._under(p, self.frontend))
        if pages:
            self.update_site([p for p in pages if p in changed], [p for p in pages if p in removed])

    # ---- functions ----
    def update_functions(self, saved: list[Path]) -> None:
        began = time.monotonic()
        names = ", ".join(self._rel(p) for p in saved)
        error = self.compile_error()
        if error:
            self.say(f"error  {error}: not deployed, the functions keep the last good code")
            return
        try:
            code = functions.build_zip(self.build_dir)
        except Exception as failure:  # a file that compiled a moment ago was saved again half-written, say
            self.say(f"error  building the zip failed ({failure}): the functions keep the last good code")
            return
        client = self.target.client("lambda")
        with ThreadPoolExecutor(len(self.function_names)) as pool:
            list(pool.map(lambda name: client.update_function_code(FunctionName=name, ZipFile=code),
                          self.function_names))
        self.say(f"{names}  ->  {len(self.function_names)} functions updated ({len(code) // 1024} KiB) "
                 f"in {time.monotonic() - began:.2f}s")

    def compile_error(self) -> str | None:
        """`file:line: message` of the first Python file of the package that does not compile, else None."""
        for path in sorted((self.lambdas / "albums").rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            try:
                compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
            except SyntaxError as error:
                return f"{self._rel(path)}:{error.lineno}: {error.msg}"
            except ValueError as error:  # e.g. a NUL byte
                return f"{self._rel(path)}: {error}"
        return None

    # ---- site ----
    def update_site(self, saved: list[Path], removed: list[Path]) -> None:
        began = time.monotonic()
        s3, bucket = self.target.client("s3"), self.outputs["BucketName"]
        for path in saved:
            if path.is_file() and path.suffix != ".md":
                body, content_type = self.page(path, reload_script=True)
                s3.put_object(Bucket=bucket, Key=self._key(path), Body=body, ContentType=content_type,
                              CacheControl="no-cache")
        for path in removed:
            if path.suffix != ".md":
                s3.delete_object(Bucket=bucket, Key=self._key(path))
        self.site_changed()
        what = ", ".join([self._rel(p) for p in saved] + [f"{self._rel(p)} (removed)" for p in removed])
        self.say(f"{what}  ->  bucket {bucket} in {time.monotonic() - began:.2f}s; open pages reload")

    def page(self, path: Path, reload_script: bool) -> tuple[bytes, str]:
        """A site file as the deploy uploads it (site.site_files), plus the reload script in pages while watching."""
        body = path.read_bytes()
        if path.suffix == ".html":
            body = body.replace(b"{{CONNECT_SRC}}", self.connect_src.encode())
            if reload_script and RELOAD_TAG not in body:
                body = body.replace(b"</head>", RELOAD_TAG + b"\n</head>", 1)
        return body, _content_type(path)

    def pages(self, reload_script: bool) -> None:
        """Every page of the site, with (while watching) or without (as deployed) the reload script."""
        s3, bucket = self.target.client("s3"), self.outputs["BucketName"]
        for path in sorted(self.frontend.rglob("*.html")):
            body, content_type = self.page(path, reload_script)
            s3.put_object(Bucket=bucket, Key=self._key(path), Body=body, ContentType=content_type,
                          CacheControl="no-cache")

    def site_changed(self) -> None:
        request = urllib.request.Request(f"{self.target.endpoint}{SITE_CHANGED_PATH}", data=b"", method="POST")
        try:
            urllib.request.urlopen(request, timeout=5).close()
        except OSError as error:
            self.say(f"warning  could not tell open pages to reload ({error})")

    # ---- the stack's definition ----
    def redeploy(self) -> None:
        began = time.monotonic()
        self.say(f"{self._rel(self.template)}  ->  redeploying the stack …")
        try:
            self.outputs, report = stack.deploy(self.target, out=lambda line: self.out(f"{' ' * 14}{line}"))
        except StackError as error:
            self.say(f"error  {error}")
            return
        except Exception as error:  # botocore's, a broken template: say it and keep watching
            self.say(f"error  deploy failed: {type(error).__name__}: {error}")
            return
        self.function_names = [f.name for f in tpl.functions()]
        self.pages(reload_script=True)  # the deploy uploaded the plain pages
        self.site_changed()
        # The deploy also put back the plain pages (ours carry the reload script): not a change of the stack.
        stack_changes = [change for change in report.changes if not change.startswith("site:")]
        changes = f"{len(stack_changes)} change(s)" if stack_changes else "no changes to the stack"
        self.say(f"{self._rel(self.template)}  ->  redeployed ({changes}) in {time.monotonic() - began:.2f}s")

    # ---- helpers ----
    def _rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def _key(self, path: Path) -> str:
        return path.relative_to(self.frontend).as_posix()

    @staticmethod
    def _under(path: Path, folder: Path) -> bool:
        return folder in path.parents


def _content_type(path: Path) -> str:
    """The same Content-Type as the deploy's upload (bootstrap/site.py)."""
    guessed = {".js": "text/javascript", ".mjs": "text/javascript", ".svg": "image/svg+xml"}.get(path.suffix) or \
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") or guessed.endswith("json") else guessed


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bootstrap.watch", description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository copy to watch (default: this one)")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between two looks (default 0.05)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even where a shell started us ignoring it
    try:
        watch = Watch(resolve("local"), args.root.resolve(), out=lambda line: print(line, flush=True))
        watch.run(args.interval, stop=lambda: stopping)
    except KeyboardInterrupt:
        pass
    except (StackError, StackNotRunning) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # the stack is not running, most often
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"{stamp()}  watch stopped; the pages in the bucket are as deployed again", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
