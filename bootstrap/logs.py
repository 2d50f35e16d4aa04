"""`make logs`: the functions' log lines from CloudWatch Logs (the emulator's, or AWS's), one stream, in time order.

    python -m bootstrap logs [--function get|albums-get] [--request-id ID] [--since MINUTES] [--follow]

Every function writes one JSON line per request (albums.http) with its Lambda `request_id`; the 500 a client sees
names that id, so `--request-id` finds the whole story of one failed call (the platform's START/END/REPORT lines
carry the same id).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from bootstrap import template
from bootstrap.target import Client, Target

POLL_SECONDS = 1.0


def log_groups(function: str | None) -> list[tuple[str, str]]:
    """(function name, log group) for every function, or the one named (albums-get, get, post: see
    template.function_named)."""
    chosen = template.functions() if function is None else (template.function_named(function),)
    return [(f.name, f"/aws/lambda/{f.name}") for f in chosen]


def events(client: Client, group: str, since_ms: int, request_id: str | None) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {"logGroupName": group, "startTime": since_ms}
    if request_id:
        kwargs["filterPattern"] = f'"{request_id}"'
    while True:
        try:
            page = client.filter_log_events(**kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return  # the function has not run yet: no log group
            raise
        yield from page.get("events", [])
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]


def show(target: Target, function: str | None = None, request_id: str | None = None, since_minutes: float = 60,
         follow: bool = False, out: Callable[[str], None] = print) -> int:
    """Print matching lines; with `follow`, keep printing new ones until interrupted. Returns how many it printed."""
    client = target.client("logs")
    groups = log_groups(function)
    since_ms = int((time.time() - since_minutes * 60) * 1000)
    seen: set[str] = set()
    printed = 0
    while True:
        batch: list[tuple[int, int, str, str]] = []
        for name, group in groups:
            for event in events(client, group, since_ms, request_id):
                key = event.get("eventId") or f"{group}:{event['timestamp']}:{event['message']}"
                if key not in seen:
                    seen.add(key)
                    batch.append((event["timestamp"], len(batch), name, event["message"].rstrip("\n")))
        for stamp, _order, name, message in sorted(batch):  # same millisecond: as the log group holds them
            clock = time.strftime("%H:%M:%S", time.localtime(stamp / 1000)) + f".{stamp % 1000:03d}"
            out(f"{clock} {name:<14} {message}")
            since_ms = max(since_ms, stamp)  # the next poll starts at the newest line (seen filters repeats)
        printed += len(batch)
        if not follow:
            return printed
        time.sleep(POLL_SECONDS)
