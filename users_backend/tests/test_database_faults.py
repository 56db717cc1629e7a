"""PostgreSQL refused or stalled behind a proxy while admins create users: 503s, never 500s or closed connections.

Two writers, not eight: each new user costs an argon2 hash, and eight at once
saturate this machine's CPUs, which says nothing about the database.
"""

import uuid

import pytest

from thoughts_common import tokens
from thoughts_common.health import READY_TIMEOUT_SECONDS
from thoughts_common.testing import database_faults

WRITERS = 2


@pytest.fixture
def backend(postgres_server, key_files, rsa_key_pair, syslog_receiver, tmp_path):
    server, proxy, url = database_faults.start_on_postgres(
        "users_backend", postgres_server, key_files, tmp_path, syslog_receiver.port
    )
    admin = {"Authorization": f"Bearer {tokens.encode({'username': 'root', 'role': 'admin'}, rsa_key_pair[0])}"}
    run = uuid.uuid4().hex[:6]

    def write(i):
        user = {"username": f"fault-{run}-{i}", "password": "fault-password"}
        return database_faults.post(f"{server.base}/admin/users/", json=user, headers=admin)

    yield server, proxy, write, database_faults.row_counter(url, "users")
    proxy.close()
    server.stop()


def test_refused_database_answers_503_with_retry_after_and_recovers(backend, syslog_receiver):
    server, proxy, write, count_rows = backend
    report = database_faults.run_fault(server.base, proxy, "refuse", 10, write, count_rows, writers=WRITERS)
    database_faults.assert_answered_as_an_sre_expects(report, syslog_receiver, READY_TIMEOUT_SECONDS)


def test_stalled_database_answers_503_before_harakiri_and_recovers(backend, syslog_receiver):
    # 20 s: longer than every timeout of the chain, harakiri (15 s) included; the thoughts backend's test stalls 40 s.
    server, proxy, write, count_rows = backend
    report = database_faults.run_fault(server.base, proxy, "stall", 20, write, count_rows, writers=WRITERS)
    database_faults.assert_answered_as_an_sre_expects(report, syslog_receiver, READY_TIMEOUT_SECONDS)
