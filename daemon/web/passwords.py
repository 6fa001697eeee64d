"""Password hashes for `[[web.users]]`: hashlib.scrypt from the standard library.

scrypt is memory-hard (RFC 7914) and needs no native package to build or audit; its parameters are
stored in the hash, so stronger ones later still verify the old hashes. The format is
`scrypt$<n>$<r>$<p>$<salt>$<hash>` (base64), which `config_schema` recognises.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

# n = 2**15, r = 8: 32 MiB and about 0.1 s per check, OWASP's floor for scrypt.
N, R, P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("an empty password cannot be hashed")
    salt = os.urandom(16)
    digest = _scrypt(password, salt, N, R, P)
    return "$".join(("scrypt", str(N), str(R), str(P), _b64(salt), _b64(digest)))


def verify_password(password: str, stored: str) -> bool:
    """True only for the password that made `stored`; False for any other, or for no hash at all."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        if scheme != "scrypt":
            return False
        found = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(found, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int = 32) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=length)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
