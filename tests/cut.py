"""A host's network link to the database, which the test can cut and heal (tests/test_failover.py).

A TCP relay on 127.0.0.1 between one daemon and PostgreSQL. Cut, it forwards nothing either way and
accepts new connections without answering them, but keeps every socket open: the daemon's kernel
and the server's see live TCP peers, as behind a proxy or a NAT that still answers, so only the
silence tells them (no reset, no closed socket, unlike a kill or `pg_terminate_backend`). Healed,
it drops the connections of before (the server has forgotten them) and relays new ones again.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.servers import LOOPBACK, free_port


class CuttableLink:
    def __init__(self, target_port: int) -> None:
        self.target = (LOOPBACK, target_port)
        self.port = free_port()
        self._listener = socket.create_server((LOOPBACK, self.port))
        self._cut = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="link-accept", daemon=True).start()

    def cut(self) -> None:
        self._cut.set()

    def heal(self) -> None:
        self._close_all()
        self._cut.clear()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.close()
        self._close_all()

    def _close_all(self) -> None:
        with self._lock:
            held, self._sockets = self._sockets, []
        for sock in held:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            self._keep(client)
            if self._cut.is_set():
                continue  # accepted, never answered
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            self._keep(server)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Forward until either end closes; while cut, read and drop (the peer's kernel sees ACKs),
        and keep an end's close from the other (heal closes them all)."""
        while True:
            try:
                data = source.recv(65536)
                if not data:
                    break
                if not self._cut.is_set():
                    sink.sendall(data)
            except OSError:
                break
        if self._cut.is_set():
            return
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
