"""Wait until the processes of the native run answer, then print their addresses.

Runs as one of honcho's processes, so it stays alive afterwards: honcho stops
everything as soon as any process exits.
"""

import os
import signal
import time
import urllib.request

# process name -> (what, address for people, address that proves it is up)
ADDRESSES = {
    "frontend": ("frontend", "http://127.0.0.1:8000", "http://127.0.0.1:8000/healthz"),
    "thoughts_backend": ("thoughts backend", "http://127.0.0.1:8001", "http://127.0.0.1:8001/healthz"),
    "users_backend": ("users backend", "http://127.0.0.1:8002", "http://127.0.0.1:8002/healthz"),
    "syslog": ("rsyslog", "udp 127.0.0.1:5140 -> var/log/syslog", None),
    "frontail": ("logs (frontail)", "http://127.0.0.1:9001", "http://127.0.0.1:9001/"),
    "prometheus": ("Prometheus", "http://127.0.0.1:9090", "http://127.0.0.1:9090/-/ready"),
    "alertmanager": ("Alertmanager", "http://127.0.0.1:9093", "http://127.0.0.1:9093/-/ready"),
    "alert_receiver": (
        "alert receiver",
        "http://127.0.0.1:9095 -> var/alerts/alerts.jsonl",
        "http://127.0.0.1:9095/healthz",
    ),
}
TIMEOUT_SECONDS = 90


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - fixed local URLs
            return response.status < 500
    except OSError:
        return False


def main():
    names = [n for n in os.environ.get("NATIVE_PROCESSES", "").split() if n in ADDRESSES]
    deadline = time.monotonic() + TIMEOUT_SECONDS
    pending = {n for n in names if ADDRESSES[n][2]}
    while pending and time.monotonic() < deadline:
        pending = {n for n in pending if not answers(ADDRESSES[n][2])}
        time.sleep(0.5)
    lines = ["", "Thoughts is up:" if not pending else "Thoughts is partly up:"]
    for name in names:
        what, address, _ = ADDRESSES[name]
        state = "NOT ANSWERING" if name in pending else ""
        lines.append(f"  {what:<18} {address}  {state}".rstrip())
    lines.append("Log in as bruce/bruce at http://127.0.0.1:8000. Ctrl-C stops everything.")
    print("\n".join(lines), flush=True)
    signal.pause()


if __name__ == "__main__":
    main()
