import datetime as dt
import re

import pytest

from thoughts_common import settings, tokens


@pytest.fixture(autouse=True)
def no_key_settings(monkeypatch):
    """``make test`` exports JWT_*_KEY_FILE: each test here sets the key settings it reads itself."""
    for name in settings.declared_names():
        if name.startswith("JWT_"):
            monkeypatch.delenv(name, raising=False)


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
    assert tokens.require_key("JWT_PUBLIC_KEY") == public.rstrip("\n")
    assert tokens.require_public_key("JWT_PUBLIC_KEY") == tokens.public_key_object(public)

    # PEM text in one line with literal \n, as some secret stores hand it over.
    monkeypatch.delenv("JWT_PUBLIC_KEY_FILE")
    monkeypatch.setenv("JWT_PUBLIC_KEY", public.replace("\n", "\\n"))
    assert tokens.require_key("JWT_PUBLIC_KEY") == public


def test_a_key_given_twice_is_refused(monkeypatch, tmp_path, rsa_key_pair):
    path = tmp_path / "public.pem"
    path.write_text(rsa_key_pair[1])
    monkeypatch.setenv("JWT_PUBLIC_KEY_FILE", str(path))
    monkeypatch.setenv("JWT_PUBLIC_KEY", rsa_key_pair[1])
    with pytest.raises(settings.SettingError, match="JWT_PUBLIC_KEY and JWT_PUBLIC_KEY_FILE are both set"):
        tokens.require_public_key()


def test_unreadable_key_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("JWT_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("JWT_PRIVATE_KEY_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(settings.SettingError, match=r"JWT_PRIVATE_KEY_FILE=.*missing\.pem cannot be read"):
        tokens.require_key("JWT_PRIVATE_KEY")


def test_generate_key_pair_keeps_existing_keys(tmp_path):
    private, public = tokens.generate_key_pair(tmp_path / "keys", bits=2048)
    first = private.read_text()
    assert oct(private.stat().st_mode & 0o777) == "0o600"
    tokens.generate_key_pair(tmp_path / "keys")
    assert private.read_text() == first
    token = tokens.encode({"username": "x"}, first)
    assert tokens.decode(token, public.read_text())["username"] == "x"


def raw(private, **claims):
    """A token signed with our key but with exactly the claims given (no defaults added)."""
    import jwt

    return jwt.encode(claims, private, algorithm=tokens.ALGORITHM)


def now():
    return int(dt.datetime.now(dt.UTC).timestamp())


def test_tokens_carry_the_issuer(rsa_key_pair, monkeypatch):
    monkeypatch.delenv("JWT_ISSUER", raising=False)
    claims = tokens.decode(tokens.encode({"username": "bruce"}, rsa_key_pair[0]), rsa_key_pair[1])
    assert claims["iss"] == "thoughts-users-backend"


@pytest.mark.parametrize("issuer", [None, "someone-else", ""], ids=["missing", "other", "empty"])
def test_a_token_of_no_or_another_issuer_is_rejected(rsa_key_pair, issuer):
    t = now()
    extra = {} if issuer is None else {"iss": issuer}
    token = raw(rsa_key_pair[0], username="bruce", iat=t, exp=t + 300, **extra)
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(token, rsa_key_pair[1])


def test_the_issuer_comes_from_jwt_issuer(rsa_key_pair, monkeypatch):
    default = tokens.encode({"username": "bruce"}, rsa_key_pair[0])
    monkeypatch.setenv("JWT_ISSUER", "staging-users")
    ours = tokens.encode({"username": "bruce"}, rsa_key_pair[0])
    assert tokens.decode(ours, rsa_key_pair[1])["iss"] == "staging-users"
    with pytest.raises(tokens.InvalidToken):
        tokens.decode(default, rsa_key_pair[1])


def test_a_token_living_longer_than_the_cap_is_rejected(rsa_key_pair):
    t = now()
    at_cap = raw(rsa_key_pair[0], username="bruce", iss=tokens.DEFAULT_ISSUER, iat=t, exp=t + 24 * 3600)
    beyond = raw(rsa_key_pair[0], username="bruce", iss=tokens.DEFAULT_ISSUER, iat=t, exp=t + 24 * 3600 + 1)
    assert tokens.decode(at_cap, rsa_key_pair[1])["username"] == "bruce"
    with pytest.raises(tokens.InvalidToken, match="LifetimeTooLong"):
        tokens.decode(beyond, rsa_key_pair[1])


def test_encode_refuses_a_lifetime_over_the_cap(rsa_key_pair):
    with pytest.raises(ValueError, match="exceeds the cap"):
        tokens.encode({"username": "bruce"}, rsa_key_pair[0], lifetime=dt.timedelta(hours=25))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1441", "JWT_LIFETIME_MINUTES='1441': Must be greater than or equal to 1 and less than or equal to 1440."),
        ("0", "JWT_LIFETIME_MINUTES='0': Must be greater than or equal to 1 and"),
        ("two hours", "JWT_LIFETIME_MINUTES='two hours': Not a valid integer."),
    ],
)
def test_lifetime_setting_is_checked(monkeypatch, value, message):
    monkeypatch.setenv("JWT_LIFETIME_MINUTES", value)
    with pytest.raises(settings.SettingError, match=re.escape(message)):
        tokens.configured_lifetime()


def test_lifetime_setting_up_to_the_cap(monkeypatch):
    monkeypatch.setenv("JWT_LIFETIME_MINUTES", "1440")
    assert tokens.configured_lifetime() == tokens.MAX_LIFETIME == dt.timedelta(hours=24)
    monkeypatch.setenv("JWT_LIFETIME_MINUTES", " 120 ")
    assert tokens.configured_lifetime() == dt.timedelta(hours=2)
    monkeypatch.delenv("JWT_LIFETIME_MINUTES")
    assert tokens.configured_lifetime() == tokens.DEFAULT_LIFETIME


@pytest.mark.parametrize("username", ["a\x00b", "a\ud800b"], ids=["nul", "surrogate"])
def test_signed_token_with_an_unstorable_username_is_rejected(rsa_key_pair, username):
    token = tokens.encode({"username": username}, rsa_key_pair[0])
    with pytest.raises(tokens.InvalidToken, match="UnstorableUsername"):
        tokens.decode(token, rsa_key_pair[1])


def test_key_objects_sign_and_verify_what_pem_text_does(rsa_key_pair):
    private, public = tokens.private_key_object(rsa_key_pair[0]), tokens.public_key_object(rsa_key_pair[1])

    assert tokens.decode(tokens.encode({"username": "bruce"}, private), rsa_key_pair[1])["username"] == "bruce"
    assert tokens.decode(tokens.encode({"username": "bruce"}, rsa_key_pair[0]), public)["username"] == "bruce"


def test_pem_text_is_parsed_once_per_process(rsa_key_pair):
    assert tokens.private_key_object(rsa_key_pair[0]) is tokens.private_key_object(rsa_key_pair[0])
    assert tokens.public_key_object(rsa_key_pair[1]) is tokens.public_key_object(rsa_key_pair[1])
    # An object comes back as it is.
    private = tokens.private_key_object(rsa_key_pair[0])
    assert tokens.private_key_object(private) is private


def test_a_public_key_given_as_the_private_one_is_refused_naming_the_file(rsa_key_pair, tmp_path, monkeypatch):
    path = tmp_path / "public.pem"
    path.write_text(rsa_key_pair[1])
    monkeypatch.delenv("JWT_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("JWT_PRIVATE_KEY_FILE", str(path))

    with pytest.raises(
        tokens.KeyNotConfigured, match=re.escape(f"JWT_PRIVATE_KEY_FILE={path} is not a PEM RSA private key")
    ):
        tokens.require_private_key()


def test_text_that_is_no_key_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\\nnot a key\\n-----END PUBLIC KEY-----")

    with pytest.raises(tokens.KeyNotConfigured, match=r"^JWT_PUBLIC_KEY is not a PEM RSA public key"):
        tokens.require_public_key()


def test_a_key_that_is_not_rsa_is_refused():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )

    with pytest.raises(tokens.KeyNotConfigured, match=r"^JWT_PUBLIC_KEY .*ECPublicKey; RS256 needs an RSA key"):
        tokens.public_key_object(pem)
