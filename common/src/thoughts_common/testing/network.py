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
    """A UDP syslog listener on 127.0.0.1 (or another loopback address) keeping every message it receives."""

    def __init__(self, host="127.0.0.1", port=0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
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

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; ``cut()`` refuses and drops connections, ``stall()`` holds them.

    Stalled, the proxy still accepts connections and the bytes clients send
    (the kernel acknowledges them) but forwards nothing toward the target,
    as when a database freezes or a network path blackholes requests: nothing
    is refused, clients just wait. Answers to what the target had already
    received still come back. ``restore()`` ends a stall by dropping every
    connection that was held, as a database restarted after a freeze would,
    so nothing a client gave up on reaches the target afterwards.
    """

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener = None
        self._pairs = []
        self._held = []
        self._stalled = False
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.restore()

    @property
    def stalled(self):
        return self._stalled

    def stall(self):
        with self._lock:
            self._stalled = True

    def proxied_url(self, url):
        """A database URL (SQLAlchemy's form) whose connections go through this proxy.

        The proxy listens on the loopback, so the host changes too: in a
        container the database's host name would bypass the proxy.
        """
        from sqlalchemy.engine import make_url

        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def restore(self):
        with self._lock:
            dropped = []
            if self._stalled:
                self._stalled = False
                dropped, self._pairs, self._held = self._pairs + [(c,) for c in self._held], [], []
            if self._listener is None:
                listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind(("127.0.0.1", self.port))
                listener.listen(64)
                self._listener = listener
                threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        _close_all(dropped)

    def cut(self):
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs + [(c,) for c in self._held], []
            self._held = []
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        _close_all(pairs)

    def close(self):
        self._closed.set()
        self.cut()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                if self._stalled:
                    self._held.append(client)
                    continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client, upstream):
        selector = selectors.DefaultSelector()
        selector.register(upstream, selectors.EVENT_READ, client)
        reading_client = False
        try:
            while True:
                # While stalled, what the client sends stays unread (held).
                if reading_client == self._stalled:
                    if reading_client:
                        selector.unregister(client)
                    else:
                        selector.register(client, selectors.EVENT_READ, upstream)
                    reading_client = not reading_client
                for key, _ in selector.select(timeout=0.1):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            selector.close()
            _close_all([(client, upstream)])


def _close_all(groups):
    for group in groups:
        for sock in group:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
