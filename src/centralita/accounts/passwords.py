"""Password hashing (argon2id) and token hashing (SHA-256; tokens are random, so no salt is needed)."""

from __future__ import annotations

import hashlib
import os
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MIN_PASSWORD_LENGTH", "burn_verification_time", "verify_password"]

# RFC 9106 defaults (argon2id). CENTRALITA_ARGON2_PROFILE=test lowers the cost for the test suite only;
# hashes record their own parameters, so verification works across profiles.
_hasher = (
    PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    if os.environ.get("CENTRALITA_ARGON2_PROFILE") == "test"
    else PasswordHasher()
)
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return str(_hasher.hash(password))


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# A real hash to verify against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def burn_verification_time(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
