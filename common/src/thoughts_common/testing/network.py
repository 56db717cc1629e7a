"""Free ports, a UDP syslog receiver and a TCP proxy that can be cut."""

import contextlib
import re
import selectors
import socket
import threading
import time


def free_port(kind=socket.SOCK_STREAM):
    with contextlib.closing(socket.socket(socket.AF_INET, kind)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{message} not met within {timeout} s")
        time.sleep(interval)


_SYSLOG = re.compile(r"^<(?P<pri>\d+)>(?P<rest>.*)$", re.DOTALL)


class SyslogReceiver:
    """A UDP syslog listener on 127.0.0.1 keeping every message it receives."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.messages = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(65535)
            except OSError:
                continue
            text = data.decode("utf-8", "replace").rstrip("\x00\n")
            match = _SYSLOG.match(text)
            with self._lock:
                self.messages.append(match.group("rest") if match else text)

    def snapshot(self):
        with self._lock:
            return list(self.messages)

    def containing(self, *needles):
        return [m for m in self.snapshot() if all(n in m for n in needles)]

    def wait_for(self, *needles, timeout=10.0):
        return wait_until(lambda: self.containing(*needles), timeout, message=f"syslog line with {needles}")

    def close(self):
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``cut()`` refuses and drops connections."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener = None
        self._pairs = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.restore()

    def restore(self):
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(16)
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self):
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs, []
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for client, upstream in pairs:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def close(self):
        self._closed.set()
        self.cut()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(client, upstream):
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while True:
                for key, _ in selector.select(timeout=1):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.close()
