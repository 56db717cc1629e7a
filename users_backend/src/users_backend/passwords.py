"""argon2id password hashing."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the user does not exist, so that an unknown user
# costs the same time as a wrong password and cannot be told apart.
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password):
    return _hasher.hash(password)


def verify(password_hash, password):
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
