from sqlalchemy import text


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
