"""A minimal Debug Adapter Protocol client (what VS Code speaks to debugpy), for the `make debug` test: attach, set a
breakpoint, wait for the stop, look at the frame, continue."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

Message = dict[str, Any]


class DapClient:
    def __init__(self, port: int, timeout: float = 30) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""
        self.seq = 0

    def request(self, command: str, **arguments: Any) -> int:
        self.seq += 1
        body = json.dumps({"seq": self.seq, "type": "request", "command": command, "arguments": arguments}).encode()
        self.socket.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def call(self, command: str, **arguments: Any) -> Message:
        """A request and its response."""
        seq = self.request(command, **arguments)
        return self.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == seq)

    def read(self) -> Message:
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._receive()
        head, rest = self.buffer.split(b"\r\n\r\n", 1)
        length = int(head.split(b":", 1)[1])
        while len(rest) < length:
            rest += self._receive()
        self.buffer = rest[length:]
        message: Message = json.loads(rest[:length])
        return message

    def _receive(self) -> bytes:
        data = self.socket.recv(65536)
        if not data:
            raise ConnectionError("the debug adapter closed the connection")
        return data

    def wait(self, wanted: Callable[[Message], bool], seconds: float = 30) -> Message:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = self.read()
            if wanted(message):
                return message
        raise TimeoutError("the debug adapter did not send what was waited for")

    def attach(self) -> None:
        self.call("initialize", clientID="tests", adapterID="debugpy", pathFormat="path", linesStartAt1=True,
                  columnsStartAt1=True)
        self.request("attach", justMyCode=True)
        self.wait(lambda m: m.get("event") == "initialized")

    def close(self) -> None:
        try:
            self.request("disconnect")
        finally:
            self.socket.close()
