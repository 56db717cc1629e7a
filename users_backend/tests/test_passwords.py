import secrets

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import select, text, update

from users_backend import passwords
from users_backend.models import User


def test_database_holds_only_argon2_hashes(client, admin_auth, session):
    client.post("/admin/users/", json={"username": "ann", "password": "plain-secret"}, headers=admin_auth)

    rows = session.execute(text("SELECT username, password_hash FROM users")).all()

    assert {name for name, _ in rows} == {"admin", "ann"}
    for _, stored in rows:
        assert stored.startswith("$argon2id$")
        assert "plain-secret" not in stored and "admin-password" not in stored


def test_same_password_gets_different_hashes(make_user, session):
    make_user("a", "same")
    make_user("b", "same")
    hashes = session.execute(text("SELECT password_hash FROM users")).scalars().all()
    assert len(set(hashes)) == 2


# Passwords made at run time: no password-looking literal for the secret scan.
PASSWORD = secrets.token_urlsafe(12)
CURRENT = "$argon2id$v=19$m=19456,t=2,p=1$"
# What every hash stored before issue 12 was made with: argon2-cffi's default, RFC 9106's low-memory profile.
OLD_HASHER = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


class CountingHasher(PasswordHasher):
    """A real hasher with the current parameters that remembers what it verified and how often it hashed."""

    def __init__(self):
        super().__init__(time_cost=passwords.ITERATIONS, memory_cost=passwords.MEMORY_KIB, parallelism=1)
        self.verified = []
        self.hashed = 0

    def verify(self, hash, password):
        self.verified.append(hash)
        return super().verify(hash, password)

    def hash(self, password, *, salt=None):
        self.hashed += 1
        return super().hash(password, salt=salt)


@pytest.fixture
def hasher(monkeypatch):
    counting = CountingHasher()
    monkeypatch.setattr(passwords, "HASHER", counting)
    return counting


def stored_hash(session, username):
    session.expire_all()
    return session.execute(select(User.password_hash).where(User.username == username)).scalar_one()


@pytest.fixture
def old_user(make_user, session):
    """bruce, whose hash was stored with the old parameters."""
    make_user("bruce", PASSWORD)
    session.execute(update(User).where(User.username == "bruce").values(password_hash=OLD_HASHER.hash(PASSWORD)))
    session.commit()
    assert stored_hash(session, "bruce").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def log_in(client, username, password):
    return client.post("/api/login/", json={"username": username, "password": password}).status_code


def test_new_hashes_use_owasps_parameters(make_user, session):
    make_user("ann", PASSWORD)
    assert stored_hash(session, "ann").startswith(CURRENT)
    assert (passwords.MEMORY_KIB, passwords.ITERATIONS, passwords.PARALLELISM) == (19456, 2, 1)


def test_an_old_hash_is_upgraded_by_the_next_successful_login(client, old_user, session, hasher):
    assert log_in(client, "bruce", PASSWORD) == 200

    upgraded = stored_hash(session, "bruce")
    assert upgraded.startswith(CURRENT)
    assert passwords.verify(upgraded, PASSWORD)
    assert not passwords.verify(upgraded, PASSWORD + "x")
    assert hasher.hashed == 1
    # Upgraded once: the next login verifies the new hash and hashes nothing.
    assert log_in(client, "bruce", PASSWORD) == 200
    assert stored_hash(session, "bruce") == upgraded
    assert hasher.hashed == 1


def test_a_wrong_password_does_not_upgrade_the_hash(client, old_user, session, hasher):
    before = stored_hash(session, "bruce")

    assert log_in(client, "bruce", PASSWORD + "x") == 401

    assert stored_hash(session, "bruce") == before
    assert hasher.hashed == 0
    assert hasher.verified == [before]


def test_an_unknown_user_costs_one_verify_with_the_current_parameters(client, hasher):
    assert log_in(client, "nobody", PASSWORD) == 401

    assert len(hasher.verified) == 1
    assert hasher.verified[0].startswith(CURRENT)
    assert hasher.hashed == 0


def test_a_current_hash_costs_one_verify_and_no_hash(client, make_user, session, hasher):
    make_user("ann", PASSWORD)
    stored = stored_hash(session, "ann")
    hashed_at_creation = hasher.hashed

    assert log_in(client, "ann", PASSWORD) == 200

    assert hasher.verified == [stored]
    assert hasher.hashed == hashed_at_creation
    assert stored_hash(session, "ann") == stored


def test_no_database_connection_is_held_while_a_password_is_verified(app, client, make_user, monkeypatch):
    make_user("ann", PASSWORD)
    pool = app.extensions["database"].engine.pool
    held = []

    class PoolWatchingHasher(CountingHasher):
        def verify(self, hash, password):
            held.append(pool.checkedout())
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "HASHER", PoolWatchingHasher())
    assert log_in(client, "ann", PASSWORD) == 200
    assert log_in(client, "ann", PASSWORD + "x") == 401
    assert log_in(client, "nobody", PASSWORD) == 401
    assert held == [0, 0, 0]
