"""A TCP proxy on loopback that makes a replica slow, or holds its answers to writes until the replica dies.

HAProxy is pointed at it with its runtime API (Stack.reroute), so a replica keeps its name, its counters
and its health checks while it misbehaves:
- delay=seconds: every answer leaves `seconds` after it arrived (a slow upstream; its health checks too);
- hold_writes(): answers to POST and PATCH requests are kept back, health checks still pass. If the
  replica dies meanwhile, the connection is closed without them: what HAProxy sees when a replica is
  killed after doing the work but before answering.
"""

import socket
import threading
import time

WRITES = (b"POST ", b"PATCH ")


class DelayProxy:
    def __init__(self, target_port: int, *, delay: float = 0.0):
        self.target_port = target_port
        self.delay = delay
        self.holding = threading.Event()
        self.held = 0  # answers kept back so far
        self._lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def hold_writes(self) -> None:
        self.holding.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            carries_a_write = threading.Event()
            threading.Thread(target=self._forward, args=(client, upstream, carries_a_write), daemon=True).start()
            threading.Thread(target=self._answer, args=(upstream, client, carries_a_write), daemon=True).start()

    def _forward(self, client: socket.socket, upstream: socket.socket, carries_a_write: threading.Event) -> None:
        """Requests go through at once."""
        try:
            while data := client.recv(65536):
                if self.holding.is_set() and data.startswith(WRITES):
                    carries_a_write.set()
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            try:
                upstream.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _answer(self, upstream: socket.socket, client: socket.socket, carries_a_write: threading.Event) -> None:
        """Answers leave after the delay; a write's answer not at all while holding."""
        try:
            while data := upstream.recv(65536):
                if carries_a_write.is_set():
                    with self._lock:
                        self.held += 1
                    while upstream.recv(65536):  # keep reading until the replica goes away
                        pass
                    break
                time.sleep(max(0.0, self.delay))
                client.sendall(data)
        except OSError:
            pass
        finally:
            # shutdown(), not only close(): the other thread is blocked reading this socket, and a close()
            # alone would neither wake it nor send the FIN HAProxy must see.
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
