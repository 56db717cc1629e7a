"""RS256 JSON Web Tokens: signing (users backend) and verification (everyone)."""

import datetime as dt
import functools
from pathlib import Path

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from thoughts_common import inputs, settings

ALGORITHM = "RS256"
DEFAULT_LIFETIME = dt.timedelta(minutes=settings.SETTINGS["JWT_LIFETIME_MINUTES"].default)
# No token lives longer: a stolen one stays usable at most this long (24 h).
MAX_LIFETIME = dt.timedelta(minutes=settings.SETTINGS["JWT_LIFETIME_MINUTES"].maximum)
ISSUER_ENV = "JWT_ISSUER"
DEFAULT_ISSUER = settings.SETTINGS[ISSUER_ENV].default
ADMIN_ROLE = "admin"


class InvalidToken(Exception):
    """The token is malformed, expired, unsigned or signed with another key."""


class KeyNotConfigured(settings.SettingError):
    pass


def configured_issuer():
    """The ``iss`` the users backend signs and every service expects: ``JWT_ISSUER`` or the default."""
    return settings.get(ISSUER_ENV)


def configured_lifetime():
    """``JWT_LIFETIME_MINUTES`` (declared with MAX_LIFETIME as its maximum) as a timedelta."""
    return dt.timedelta(minutes=settings.get("JWT_LIFETIME_MINUTES"))


def load_key(name):
    """A PEM key from ``<name>`` or from the file named by ``<name>_FILE``.

    ``name`` is e.g. ``JWT_PUBLIC_KEY``. Returns None when neither is set.
    """
    value = settings.secret(name)
    # PEM text in one line with literal \n, as some secret stores hand it over.
    return value.replace("\\n", "\n") if value is not None else None


def require_key(name):
    key = load_key(name)
    if key is None:
        raise KeyNotConfigured(f"set {name} (PEM text) or {name}_FILE (a path to a PEM file)")
    return key


# Parsing a PEM private key checks the RSA key (tens of ms); handed the text, PyJWT
# parses it again for every token. Services load each key once, at start, with these.


def private_key_object(key, name="JWT_PRIVATE_KEY"):
    """An RSA private key object from PEM text (or the object itself); KeyNotConfigured naming ``name`` if invalid."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key
    return _parse(_as_text(key, name), name, private=True)


def public_key_object(key, name="JWT_PUBLIC_KEY"):
    """An RSA public key object from PEM text (or the object itself); KeyNotConfigured naming ``name`` if invalid."""
    if isinstance(key, rsa.RSAPublicKey):
        return key
    return _parse(_as_text(key, name), name, private=False)


def require_private_key(name="JWT_PRIVATE_KEY"):
    """The private key object of ``<name>`` or ``<name>_FILE``: fails with a message naming the setting."""
    return private_key_object(require_key(name), _setting(name))


def require_public_key(name="JWT_PUBLIC_KEY"):
    """The public key object of ``<name>`` or ``<name>_FILE``: fails with a message naming the setting."""
    return public_key_object(require_key(name), _setting(name))


def _setting(name):
    """How the key was given: ``JWT_PUBLIC_KEY`` or ``JWT_PUBLIC_KEY_FILE=<path>``."""
    path = settings.secret_path(name)
    return name if path is None else f"{name}_FILE={path}"


def _as_text(key, name):
    if isinstance(key, bytes):
        return key.decode("ascii", errors="replace")
    if not isinstance(key, str):
        raise KeyNotConfigured(f"{name} must be PEM text or an RSA key, not {type(key).__name__}")
    return key


def _parse(pem, name, private):
    kind = "private" if private else "public"
    try:
        return _loaded(pem, private)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyNotConfigured(f"{name} is not a PEM RSA {kind} key without a passphrase ({exc})") from None


# Keyed by the PEM text, so callers that hold text (tests, the frontend's settings)
# parse each key once per process too.
@functools.lru_cache(maxsize=16)
def _loaded(pem, private):
    if private:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    else:
        key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPrivateKey if private else rsa.RSAPublicKey):
        raise TypeError(f"it holds a {type(key).__name__.lstrip('_')}; RS256 needs an RSA key")
    return key


def encode(claims, private_key, lifetime=DEFAULT_LIFETIME, now=None, issuer=None):
    if lifetime > MAX_LIFETIME:
        raise ValueError(f"a token lifetime of {lifetime} exceeds the cap of {MAX_LIFETIME}")
    now = now or dt.datetime.now(dt.UTC)
    payload = {"iss": issuer or configured_issuer(), **claims, "iat": now, "exp": now + lifetime}
    return jwt.encode(payload, private_key_object(private_key), algorithm=ALGORITHM)


def decode(token, public_key, issuer=None):
    """The claims of a valid token; InvalidToken otherwise.

    Only RS256 is accepted, so ``alg: none`` and HS256 tokens signed with the
    public key as a shared secret are refused; ``exp``, ``iat`` and our ``iss``
    must be present, and ``exp - iat`` must not exceed MAX_LIFETIME.
    """
    try:
        claims = jwt.decode(
            token,
            public_key_object(public_key),
            algorithms=[ALGORITHM],
            issuer=issuer or configured_issuer(),
            options={"require": ["exp", "iat", "iss", "username"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    if not isinstance(claims.get("username"), str) or not claims["username"]:
        raise InvalidToken("MissingUsername")
    if claims["exp"] - claims["iat"] > MAX_LIFETIME.total_seconds():
        raise InvalidToken("LifetimeTooLong")
    # Signed by us or not, a username the database cannot hold is a bad token, not a 500.
    if inputs.text_problem(claims["username"]):
        raise InvalidToken("UnstorableUsername")
    return claims


def is_admin(claims):
    return claims.get("role") == ADMIN_ROLE


def generate_key_pair(directory, bits=2048):
    """Write ``private.pem`` and ``public.pem`` into ``directory`` unless present."""
    directory = Path(directory)
    private_path, public_path = directory / "private.pem", directory / "public.pem"
    if private_path.exists() and public_path.exists():
        return private_path, public_path
    directory.mkdir(parents=True, exist_ok=True)
    private, public = new_key_pair(bits)
    private_path.write_text(private)
    private_path.chmod(0o600)
    public_path.write_text(public)
    return private_path, public_path


def new_key_pair(bits=2048):
    """A fresh RSA key pair as (private PEM, public PEM) strings."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )
    return private, public


if __name__ == "__main__":
    import sys

    target = sys.argv[1] if len(sys.argv) > 1 else "var/keys"
    for path in generate_key_pair(target):
        print(path)
