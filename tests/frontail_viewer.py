"""frontail, the log viewer of the native run and compose, and the lines it pushes to a browser."""

import hashlib
import re
import time

import requests
from loopback_server import serve

from thoughts_common.testing.network import free_port


def start_frontail(binary, log_file):
    """frontail with the native run's command line, on a free port, showing ``log_file``."""
    port = free_port()
    options = ("-h", "127.0.0.1", "-p", port, "-n", "1000", "--ui-highlight", "--disable-usage-stats")
    return serve([binary, *options, log_file], port, "/", timeout=20)


def frontail_lines(base_url, log_file, until, timeout=20):
    """The lines frontail pushes to a browser, read over socket.io's long-polling transport.

    Returns once a line contains ``until``. frontail names its socket.io
    namespace after the MD5 of the file names.
    """
    namespace = "/" + hashlib.md5(str(log_file).encode()).hexdigest()
    session = requests.Session()
    endpoint = f"{base_url}/socket.io/"
    handshake = session.get(endpoint, params={"EIO": "3", "transport": "polling"}, timeout=5)
    sid = re.search(r'"sid":"([^"]+)"', handshake.text).group(1)
    params = {"EIO": "3", "transport": "polling", "sid": sid}
    connect = f"40{namespace},"
    session.post(endpoint, params=params, data=f"{len(connect)}:{connect}", timeout=5).raise_for_status()

    received = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            answer = session.get(endpoint, params=params, timeout=3)
        except requests.Timeout:
            continue
        received += re.findall(r'\["line","((?:[^"\\]|\\.)*)"\]', answer.text)
        if any(until in line for line in received):
            return received
    raise TimeoutError(f"frontail did not push {until!r} within {timeout} s; got {received[-5:]}")
