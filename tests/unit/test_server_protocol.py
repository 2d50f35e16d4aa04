"""What the bootstrap and our MiniStack server agree on is written once (bootstrap/server_protocol.py): the stack's
origin, and the paths `make watch`'s reload script waits on."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from bootstrap.emulator import Emulator
from bootstrap.ministack_server import StackServer
from bootstrap.server_protocol import SITE_PATH, SITE_VERSION, origin
from bootstrap.target import resolve
from bootstrap.watch import RELOAD_TAG

ROOT = Path(__file__).resolve().parents[2]
# An address of the stack spelled out: http://127.0.0.1..., http://localhost..., or built as http://{host}:{port}
SPELLED_ORIGIN = re.compile(r"http://(127\.0\.0\.1|localhost|\{[^}]*\}:\{)")


def test_the_origin_is_built_in_one_place_only() -> None:
    assert SPELLED_ORIGIN.search('f"http://{host}:{port}"') and SPELLED_ORIGIN.search("http://127.0.0.1:4566")
    assert not SPELLED_ORIGIN.search('f"http://{bucket}.s3-website.{region}.amazonaws.com/"')  # AWS's, not ours
    spelled = [str(path.relative_to(ROOT)) for folder in ("bootstrap", "bench") for path in (ROOT / folder).glob("*.py")
               if path.name != "server_protocol.py" and SPELLED_ORIGIN.search(path.read_text())]
    assert spelled == []


def test_both_sides_of_the_process_boundary_name_the_same_origin(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    # The server is told where it binds (a container: every interface) and its port; it is reached at the loopback.
    monkeypatch.setenv("BIND_HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "4811")
    server = StackServer(tmp_path, tmp_path / "state", 4811)
    allowed = dict(server.cors)[b"access-control-allow-origin"].decode()
    assert allowed == origin(4811) == "http://127.0.0.1:4811"
    assert allowed == Emulator(tmp_path, 4811, host="0.0.0.0").endpoint == resolve("local").endpoint
    assert allowed == resolve("docker").endpoint == resolve("localstack").endpoint


def test_the_reload_script_waits_where_its_tag_says_and_the_server_answers_there(tmp_path: Path) -> None:
    script = (ROOT / "bootstrap" / "watch_reload.js").read_text()
    assert "/_stack" not in script and "dataset.versionUrl" in script  # no path of the server's in the script
    (url,) = re.findall(rb'data-version-url="([^"]+)"', RELOAD_TAG)
    assert url.decode() == SITE_PATH + SITE_VERSION
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    server = StackServer(tmp_path, tmp_path / "state", 4811)
    asyncio.run(server._site({"path": url.decode(), "method": "GET", "query_string": b""}, receive, send))
    assert sent[0]["status"] == 200 and json.loads(sent[1]["body"]) == {"version": 0}
