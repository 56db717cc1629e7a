"""A program of the observability stack serving HTTP on a loopback port, returned once it answers."""

from thoughts_common.testing.processes import ServerProcess


def serve(command, port, health_path, timeout=30):
    """``command`` (listening on ``port``) once ``health_path`` answers 200; ``.port`` and ``.url`` are set."""
    url = f"http://127.0.0.1:{port}"
    server = ServerProcess([str(part) for part in command], health_url=f"{url}{health_path}").wait_healthy(timeout)
    server.port, server.url = port, url
    return server
