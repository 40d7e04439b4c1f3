"""A TCP proxy on 127.0.0.1 in front of a real service, which can make the service look stopped.

Stopping the shared NocoDB or SeaweedFS of the test session would break every other test running
against them, so the fault tests point the deployment at this proxy instead. ``stop()`` closes the
listening socket and cuts every open connection: clients see exactly what a stopped server shows
(connection reset mid-request, then connection refused). ``start()`` listens again on the same
port. Triggers stop it at a precise moment: after ``n`` connections, when a request contains some
bytes, or when a single connection has sent more than ``n`` bytes (an upload in progress).
"""

import contextlib
import socket
import threading
from collections.abc import Callable


class FaultProxy:
    def __init__(self, target_url: str) -> None:
        host_port = target_url.split("://", 1)[1].rstrip("/")
        host, port = host_port.rsplit(":", 1)
        self.target = (host, int(port))
        self.port = 0
        self.connections = 0
        self.stops = 0
        self.drops = 0
        self._drop: Callable[[int, bytes, int], bool] | None = None
        self._trigger: Callable[[int, bytes, int], bool] | None = None
        self._restart_after_s: float | None = None
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FaultProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop answering: no more connections, and the open ones are cut."""
        with self._lock:
            listener, self._listener = self._listener, None
            doomed, self._open = self._open, set()
            self.stops += 1
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                sock.close()

    @property
    def running(self) -> bool:
        return self._listener is not None

    def stop_when(self, trigger: Callable[[int, bytes, int], bool], restart_after_s: float | None = None) -> None:
        """Stop as soon as ``trigger(connection number, bytes just sent by the client, bytes sent so far)``
        holds (once), and start again ``restart_after_s`` later if given."""
        self._trigger = trigger
        self._restart_after_s = restart_after_s

    def drop_when(self, trigger: Callable[[int, bytes, int], bool]) -> None:
        """Cut the one connection on which ``trigger`` (as in ``stop_when``) holds (once); the others
        and the next ones go through."""
        self._drop = trigger

    def restart_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.start)
        timer.daemon = True
        timer.start()
        return timer

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    return
                self.connections += 1
                number = self.connections
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open |= {client, upstream}
            threading.Thread(target=self._pipe, args=(client, upstream, number), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, 0), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, number: int) -> None:
        """Copy one direction; ``number`` > 0 marks the client's direction, which triggers look at."""
        sent = 0
        try:
            while chunk := source.recv(65536):
                sent += len(chunk)
                trigger = self._trigger
                if number and trigger is not None and trigger(number, chunk, sent):
                    self._trigger = None
                    self.stop()
                    if self._restart_after_s is not None:
                        self.restart_after(self._restart_after_s)
                    return
                drop = self._drop
                if number and drop is not None and drop(number, chunk, sent):
                    self._drop, self.drops = None, self.drops + 1
                    return
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
