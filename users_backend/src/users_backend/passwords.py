"""argon2id password hashing, at the cost OWASP's Password Storage Cheat Sheet recommends.

The parameters are stated here and nowhere else. OWASP's minimum for argon2id:
19 MiB of memory, 2 iterations, 1 degree of parallelism. argon2-cffi's default
(RFC 9106's low-memory profile: 64 MiB, 3 iterations, 4 lanes) cost ~180 ms of
CPU per login, so two uWSGI workers on two cores served ~10 logins/s and a
handful of clients could saturate the users backend; each of the 16 threads
could also hold 64 MiB while verifying. OWASP's parameters cost ~20 ms of CPU
and 19 MiB, and still make an offline guess cost an attacker that memory.

Hashes made with other parameters (every hash stored before this change) keep
verifying; the login that proves the password replaces the hash with one made
with these parameters (``needs_rehash``).
"""

import ctypes

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MEMORY_KIB = 19 * 1024
ITERATIONS = 2
PARALLELISM = 1

HASHER = PasswordHasher(
    time_cost=ITERATIONS,
    memory_cost=MEMORY_KIB,
    parallelism=PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)
# glibc's mallopt(M_MMAP_THRESHOLD, ...): allocations from this size on are mapped
# and unmapped on their own. By default glibc raises the threshold after freeing
# such a block (up to 32 MiB), so each thread's arena then kept its own 19 MiB
# verify buffer for good: make bench measured the users backend at 500 MiB of
# PSS after its logins, against 106 MiB with the 64 MiB hashes, always mapped.
# Mapping costs the page faults of 19 MiB per verify (a few ms of ~20 ms).
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024


def _return_hash_memory_after_each_verify():
    """True when the C library took the setting (glibc); other libcs keep their own policy."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    return bool(mallopt and mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


RETURNS_HASH_MEMORY = _return_hash_memory_after_each_verify()
# Verified against when the user does not exist, so that an unknown user costs
# one verify with the current parameters, as a wrong password does, and cannot be told apart.
_DUMMY_HASH = HASHER.hash("not a real password")


def hash_password(password):
    return HASHER.hash(password)


def verify(password_hash, password):
    try:
        return HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    """True when a hash (one that verified) was made with other parameters than ours."""
    return HASHER.check_needs_rehash(password_hash)
