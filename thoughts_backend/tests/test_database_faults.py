"""PostgreSQL refused or stalled behind a proxy while 8 clients write: 503s, never 500s or closed connections."""

import pytest

from thoughts_common import tokens
from thoughts_common.health import READY_TIMEOUT_SECONDS
from thoughts_common.testing import database_faults


@pytest.fixture
def backend(postgres_server, key_files, rsa_key_pair, syslog_receiver, tmp_path):
    server, proxy, url = database_faults.start_on_postgres(
        "thoughts_backend", postgres_server, key_files, tmp_path, syslog_receiver.port
    )
    headers = {"Authorization": f"Bearer {tokens.encode({'username': 'bruce'}, rsa_key_pair[0])}"}

    def write(i):
        return database_faults.post(f"{server.base}/api/me/thoughts/", json={"text": f"fault {i}"}, headers=headers)

    yield server, proxy, write, database_faults.row_counter(url, "thoughts")
    proxy.close()
    server.stop()


def test_refused_database_answers_503_with_retry_after_and_recovers(backend, syslog_receiver):
    server, proxy, write, count_rows = backend
    report = database_faults.run_fault(server.base, proxy, "refuse", 10, write, count_rows)
    database_faults.assert_answered_as_an_sre_expects(report, syslog_receiver, READY_TIMEOUT_SECONDS)


def test_stalled_database_answers_503_before_harakiri_and_recovers(backend, syslog_receiver):
    # 40 s as in the probe that found the fault: longer than every timeout of the chain, harakiri (15 s) included.
    server, proxy, write, count_rows = backend
    report = database_faults.run_fault(server.base, proxy, "stall", 40, write, count_rows)
    database_faults.assert_answered_as_an_sre_expects(report, syslog_receiver, READY_TIMEOUT_SECONDS)
