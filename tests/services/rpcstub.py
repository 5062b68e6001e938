"""A TCP server that misbehaves like a broken RPC service: ``silent`` accepts and never answers,
``garbage`` answers every request with bytes that are not an RPC reply.

Run inside a test namespace: ``python -m tests.services.rpcstub MODE ADDRESS PORT`` (prints "ready")."""

from __future__ import annotations

import socket
import sys
import threading


def serve(mode: str, address: str, port: int) -> None:
    srv = socket.create_server((address, port))
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=_handle, args=(mode, conn), daemon=True).start()


def _handle(mode: str, conn: socket.socket) -> None:
    with conn:
        while conn.recv(65536):
            if mode == "garbage":
                # a record marker announcing a short last fragment, then HTTP instead of XDR
                conn.sendall(b"\x80\x00\x00\x10HTTP/1.1 400 Bad")


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], int(sys.argv[3]))
