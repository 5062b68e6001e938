"""Template "repositories" on loopback for the reach check: HTTP servers that answer 200 with a length,
404, a redirect, a too-large file and a slow reply, and a socket that accepts and never answers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DELAY = 0.6  # seconds before /slow answers


class _Handler(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        name = self.path.rsplit("/", 1)[-1]
        if name.startswith("slow"):
            time.sleep(DELAY)
        if name.startswith(("ok", "slow")) or name.endswith(".qcow2"):
            self.send_response(200)
            self.send_header("Content-Length", str(2 << 30))
            self.send_header("Accept-Ranges", "bytes")
        elif name.startswith("huge"):
            self.send_response(200)
            self.send_header("Content-Length", str(100 << 30))
        elif name.startswith("moved"):
            self.send_response(302)
            self.send_header("Location", "/ok")
        else:
            self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Web:
    base: str  # http://127.0.0.1:PORT — /ok, /missing, /moved, /huge, /slow, any *.qcow2 → 200
    silent: int  # a port that accepts connections and never answers


@contextmanager
def web_server(port: int = 0) -> Iterator[Web]:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        yield Web(base=f"http://127.0.0.1:{server.server_address[1]}", silent=silent.getsockname()[1])
    finally:
        server.shutdown()
        silent.close()
