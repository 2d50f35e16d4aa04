"""`make debug` (bootstrap/debug.py) copies this file as `sitecustomize.py` into a folder on the debugged function's
PYTHONPATH: Python runs it at the start of that function's Lambda worker, before the handler is imported."""

from __future__ import annotations

import os
import sys


def start_debugger() -> None:
    # Taken out of the environment first: the processes this one starts (debugpy's adapter is one) must not run
    # this file again.
    settings = {name: os.environ.pop(name, "") for name in ("ALBUMS_DEBUG_LEASE", "ALBUMS_DEBUG_SOURCE",
                                                            "ALBUMS_DEBUG_PORT")}
    os.environ.pop("PYTHONPATH", None)
    try:  # the lease names the `make debug` process: once it is gone, the function runs normally
        with open(settings["ALBUMS_DEBUG_LEASE"]) as lease:
            os.kill(int(lease.read()), 0)
    except (OSError, ValueError):
        return
    # The `albums` package from the repository: the files the debugger shows are the very files that run.
    sys.path.insert(0, settings["ALBUMS_DEBUG_SOURCE"])
    import debugpy  # type: ignore[import-not-found,unused-ignore]

    import albums  # noqa: F401

    try:
        debugpy.listen(("127.0.0.1", int(settings["ALBUMS_DEBUG_PORT"])))
    except Exception as error:  # a second worker of the same function: the first one has the port
        sys.stderr.write(f"make debug: no debugger in this worker ({error})\n")


if __name__ != "bootstrap.debug_sitecustomize":  # as sitecustomize in a worker, not when the bootstrap imports it
    start_debugger()
