"""A small LSP client for the tests and the bench: `charter lsp` as a subprocess, JSON-RPC with
Content-Length framing on its stdin and stdout, a reader thread that sorts answers from notifications."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

TIMEOUT = 120.0


class LspClient:
    def __init__(self, root: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.process = subprocess.Popen(
            [sys.executable, "-m", "compiler", "lsp", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=root,
            env={**os.environ, **(env or {})},
        )
        self.next_id = 0
        self.answers: dict[int, queue.Queue[dict[str, Any]]] = {}
        self.notifications: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    # --- the wire -------------------------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        with self.lock:
            self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
            self.process.stdin.flush()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = 0
            while True:
                header = stream.readline()
                if not header:
                    return
                if header in (b"\r\n", b"\n"):
                    break
                name, _, value = header.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
            message = json.loads(stream.read(length))
            if "id" in message and "method" not in message:
                self._answers(message["id"]).put(message)
            elif "id" in message:  # a request from the server (workDoneProgress/create...): accept it
                self._send({"id": message["id"], "result": None})
            else:
                self.notifications.put((time.perf_counter(), message))

    def _answers(self, number: int) -> queue.Queue[dict[str, Any]]:
        with self.lock:
            return self.answers.setdefault(number, queue.Queue())

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        number = self.next_id
        self._send({"id": number, "method": method, "params": params})
        answer = self._answers(number).get(timeout=TIMEOUT)
        assert "error" not in answer, answer
        return answer.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    # --- LSP ------------------------------------------------------------------------------------------------

    def initialize(self) -> Any:
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": self.root.as_uri(),
                "capabilities": {"textDocument": {"publishDiagnostics": {"relatedInformation": True}}},
                "workspaceFolders": [{"uri": self.root.as_uri(), "name": self.root.name}],
            },
        )
        self.notify("initialized", {})
        return result

    def uri(self, relative: str) -> str:
        return (self.root / relative).as_uri()

    def open(self, relative: str, text: str | None = None) -> str:
        uri = self.uri(relative)
        content = (self.root / relative).read_text("utf-8") if text is None else text
        self.versions = getattr(self, "versions", {})
        self.versions[uri] = 1
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": content}},
        )
        return uri

    def change(self, relative: str, text: str) -> str:
        """The whole new text of an open file (a full-document change)."""
        uri = self.uri(relative)
        self.versions[uri] += 1
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": self.versions[uri]}, "contentChanges": [{"text": text}]},
        )
        return uri

    def diagnostics(self, uri: str, timeout: float = TIMEOUT, since: float = 0.0) -> tuple[float, list[Any]]:
        """The next publishDiagnostics for `uri` (received after `since`): when it came, and what it says."""
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"no diagnostics for {uri}")
            received, message = self.notifications.get(timeout=left)
            if message.get("method") != "textDocument/publishDiagnostics":
                continue
            if message["params"]["uri"] == uri and received >= since:
                return received, message["params"]["diagnostics"]

    def drain(self) -> None:
        while not self.notifications.empty():
            self.notifications.get_nowait()

    def position(self, relative: str, needle: str, offset: int = 0) -> dict[str, int]:
        """The position of `needle` (plus `offset` characters) in a file's text on disk."""
        for number, line in enumerate((self.root / relative).read_text("utf-8").split("\n")):
            if needle in line:
                return {"line": number, "character": line.index(needle) + offset}
        raise AssertionError(f"{needle!r} not in {relative}")

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(timeout=10)
        except Exception:  # noqa: BLE001 - a server that does not stop is killed
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
