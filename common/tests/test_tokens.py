import datetime as dt

import pytest

from thoughts_common import tokens


def test_round_trip(rsa_key_pair):
    private, public = rsa_key_pair
    token = tokens.encode({"username": "bruce", "role": "admin"}, private, lifetime=dt.timedelta(minutes=5))
    claims = tokens.decode(token, public)
    assert claims["username"] == "bruce"
    assert tokens.is_admin(claims)
    assert claims["exp"] - claims["iat"] == 300


def test_token_without_username_is_rejected(rsa_key_pair):
    token = tokens.encode({"user": "bruce"}, rsa_key_pair[0])
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(token, rsa_key_pair[1])


def test_key_from_variable_or_file(monkeypatch, tmp_path, rsa_key_pair):
    public = rsa_key_pair[1]
    monkeypatch.delenv("JWT_PUBLIC_KEY", raising=False)
    monkeypatch.delenv("JWT_PUBLIC_KEY_FILE", raising=False)
    assert tokens.load_key("JWT_PUBLIC_KEY") is None
    with pytest.raises(tokens.KeyNotConfigured, match="JWT_PUBLIC_KEY_FILE"):
        tokens.require_key("JWT_PUBLIC_KEY")

    path = tmp_path / "public.pem"
    path.write_text(public)
    monkeypatch.setenv("JWT_PUBLIC_KEY_FILE", str(path))
    assert tokens.require_key("JWT_PUBLIC_KEY") == public

    # PEM text in one line with literal \n, as some secret stores hand it over.
    monkeypatch.setenv("JWT_PUBLIC_KEY", public.replace("\n", "\\n"))
    assert tokens.require_key("JWT_PUBLIC_KEY") == public


def test_unreadable_key_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("JWT_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("JWT_PRIVATE_KEY_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(tokens.KeyNotConfigured, match="cannot be read"):
        tokens.require_key("JWT_PRIVATE_KEY")


def test_generate_key_pair_keeps_existing_keys(tmp_path):
    private, public = tokens.generate_key_pair(tmp_path / "keys", bits=2048)
    first = private.read_text()
    assert oct(private.stat().st_mode & 0o777) == "0o600"
    tokens.generate_key_pair(tmp_path / "keys")
    assert private.read_text() == first
    token = tokens.encode({"username": "x"}, first)
    assert tokens.decode(token, public.read_text())["username"] == "x"


@pytest.mark.parametrize("username", ["a\x00b", "a\ud800b"], ids=["nul", "surrogate"])
def test_signed_token_with_an_unstorable_username_is_rejected(rsa_key_pair, username):
    token = tokens.encode({"username": username}, rsa_key_pair[0])
    with pytest.raises(tokens.InvalidToken, match="UnstorableUsername"):
        tokens.decode(token, rsa_key_pair[1])
