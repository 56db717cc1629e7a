"""An acknowledged thought survives a crash: SIGKILL to uWSGI while writers post, on SQLite.

SQLite runs with a write-ahead log synced at every commit
(thoughts_common.database); this checks what that promises, for real.
"""

import concurrent.futures
import os
import signal
import sqlite3
import threading
import time

import requests

from thoughts_common import tokens
from thoughts_common.testing import services

WRITERS = 8


def test_every_acknowledged_thought_is_there_after_sigkill(key_files, rsa_key_pair, tmp_path):
    database = tmp_path / "thoughts.sqlite3"
    env = services.environment("thoughts_backend", tmp_path, key_files, DATABASE_URL=f"sqlite:///{database}")
    services.cli("thoughts_backend", "migrate", env=env)
    server = services.start("thoughts_backend", env)
    headers = {"Authorization": f"Bearer {tokens.encode({'username': 'bruce'}, rsa_key_pair[0])}"}
    acknowledged, crashed = [], threading.Event()

    def write(writer):
        count = 0
        while not crashed.is_set():
            try:
                answer = requests.post(
                    f"{server.base}/api/me/thoughts/", json={"text": f"w{writer} n{count}"}, headers=headers, timeout=5
                )
            except requests.RequestException:
                continue
            if answer.status_code == 201:
                acknowledged.append(answer.json()["id"])
            count += 1

    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        writers = [pool.submit(write, n) for n in range(WRITERS)]
        deadline = time.monotonic() + 30
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        # The whole process group at once: no worker gets to finish anything.
        os.killpg(server.process.pid, signal.SIGKILL)
        server.stop()  # reaps it and closes its output file
        crashed.set()
        for writer in writers:
            writer.result()

    assert len(acknowledged) >= 200
    with sqlite3.connect(database) as connection:
        stored = {row[0] for row in connection.execute("SELECT id FROM thoughts")}
    assert set(acknowledged) <= stored
    # Writes in flight at the kill may have committed unseen; never more than one per writer.
    assert len(stored) - len(acknowledged) <= WRITERS
