"""`make debug FUNCTION=get|create|update|delete`: one function of the local stack runs under debugpy.

    python -m bootstrap.debug get [--port 5678]

How, without touching MiniStack: the function's configuration gets three environment variables and a 900 s timeout
(so a breakpoint does not time the call out). MiniStack starts its Lambda workers with the function's environment,
so `PYTHONPATH` names a folder of ours in the stack dir whose `sitecustomize.py` Python runs at the worker's start:
it imports the `albums` package from this repository's `lambdas/` (the very files your editor and debugger show, so
breakpoints need no path mapping) and has debugpy listen on 127.0.0.1:<port>. A changed configuration makes
MiniStack replace the function's worker; one is started at once (a direct invocation that the handler answers with a
400), so a debugger can attach before the first API call. `.vscode/launch.json` has "Attach to a function (make
debug)"; any DAP client works.

When this command ends (Ctrl-C, SIGTERM) the configuration is put back as it was and the worker replaced: the
function runs normally again. If it is killed outright, the worker's `sitecustomize.py` finds the lease (this
process) gone and starts no debugger, and the next `make debug` or `make watch` puts the configuration back.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from bootstrap import template as tpl
from bootstrap.access import StackNotRunning, outputs
from bootstrap.errors import StackError
from bootstrap.target import ROOT, Client, Target, resolve

DEFAULT_PORT = 5678  # debugpy's and VS Code's usual port
DEBUG_TIMEOUT_SECONDS = 900  # Lambda's maximum: a call can wait at a breakpoint that long
ENV_PORT, ENV_LEASE, ENV_SOURCE = "ALBUMS_DEBUG_PORT", "ALBUMS_DEBUG_LEASE", "ALBUMS_DEBUG_SOURCE"
ADDED = ("PYTHONPATH", ENV_PORT, ENV_LEASE, ENV_SOURCE)

SITECUSTOMIZE = Path(__file__).resolve().with_name("debug_sitecustomize.py")


def function_name(which: str) -> str:
    return tpl.function_named(which).name


class DebugSession:
    def __init__(self, target: Target, function: str, port: int) -> None:
        self.target = target
        self.function = function
        self.port = port
        self.folder = target.stack_dir / "debug" / function
        self.saved = target.stack_dir / "debug" / f"{function}.json"  # the configuration to put back
        self.lease = self.folder / "lease"

    @property
    def client(self) -> Client:
        return self.target.client("lambda")

    def start(self) -> None:
        restore_left_over(self.target, only=self.function)
        config = self.client.get_function_configuration(FunctionName=self.function)
        original = {"Variables": dict((config.get("Environment") or {}).get("Variables") or {}),
                    "Timeout": config["Timeout"]}
        self.folder.mkdir(parents=True, exist_ok=True)
        self.saved.write_text(json.dumps(original))
        (self.folder / "sitecustomize.py").write_bytes(SITECUSTOMIZE.read_bytes())
        self.lease.write_text(str(os.getpid()))
        variables = {**original["Variables"], "PYTHONPATH": str(self.folder), ENV_PORT: str(self.port),
                     ENV_LEASE: str(self.lease), ENV_SOURCE: str(ROOT / "lambdas")}
        self.client.update_function_configuration(FunctionName=self.function, Timeout=DEBUG_TIMEOUT_SECONDS,
                                                  Environment={"Variables": variables})
        self.warm_up()

    def warm_up(self) -> None:
        """Start the worker now, so the debugger can attach before the first API call (the handler answers this
        empty event with a 400, changing nothing)."""
        self.client.invoke(FunctionName=self.function, Payload=b'{"warmUp": "make debug"}')

    def end(self) -> None:
        restore_left_over(self.target, only=self.function)


def restore_left_over(target: Target, only: str | None = None) -> list[str]:
    """Put back the configuration of every function a `make debug` left changed (it was killed, say)."""
    restored = []
    for saved in sorted((target.stack_dir / "debug").glob("*.json")):
        function = saved.stem
        if only is not None and function != only:
            continue
        original = json.loads(saved.read_text())
        client = target.client("lambda")
        client.update_function_configuration(FunctionName=function, Timeout=original["Timeout"],
                                             Environment={"Variables": original["Variables"]})
        saved.unlink()
        (target.stack_dir / "debug" / function / "lease").unlink(missing_ok=True)
        restored.append(function)
    return restored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bootstrap.debug", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("function", nargs="?", default=os.environ.get("FUNCTION", ""),
                        help="get | create | update | delete | stats (or albums-get, post, ...)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEBUG_PORT", DEFAULT_PORT)))
    args = parser.parse_args(argv)
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even where a shell started us ignoring it
    session: DebugSession | None = None
    try:
        if not args.function:
            raise StackError("which function? make debug FUNCTION=get|create|update|delete|stats")
        target = resolve("local")
        outputs(target.stack_dir)  # one clear line when the stack is not running (boto3 would retry for 10 s)
        session = DebugSession(target, function_name(args.function), args.port)
        session.start()
        handler = next(f.handler for f in tpl.functions() if f.name == session.function)
        source = Path("lambdas", *handler.rsplit(".", 1)[0].split(".")).with_suffix(".py")
        print(f"{session.function} runs under debugpy on 127.0.0.1:{args.port}\n"
              f"  attach: VS Code 'Attach to a function (make debug)' (.vscode/launch.json), or any DAP client\n"
              f"  then set a breakpoint in {source} (or anywhere in lambdas/albums/) and call the API\n"
              f"  Ctrl-C ends debugging; the function then runs normally again", flush=True)
        while not stopping:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    except (StackError, StackNotRunning) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # botocore's (the stack is not running, most often)
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        if session is not None:
            try:
                session.end()
            except Exception as error:
                print(f"error: could not put {session.function} back ({error}): run `make debug` again",
                      file=sys.stderr)
    if session is not None:
        print(f"{session.function} runs normally again", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
