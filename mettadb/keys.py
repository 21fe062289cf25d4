"""How byte paths become LMDB keys: the store's side of the format.

Paths up to `MAX_PLAIN` bytes are their own key.  A longer path is cut at
`MAX_PLAIN` bytes and followed by a 16-byte BLAKE2b digest of the whole path
(so the key is exactly `HASHED_LEN` bytes); its full path lives in the value.
Constant-prefix scans stay exact for prefixes of up to `MAX_PLAIN` bytes and
are filtered on the full path beyond that.

The reverse index key of a ground expression `(h a1 ... an)` (n >= 2, symbol
head) is `arity h an ... a1`: the argument tokens in reverse order, each token
kept as written.  A pattern's constant *suffix* is then a key prefix, which is
what `(parent $x P456)` needs.  Reversal is its own inverse, so the primary
path is recovered from the index key alone.

The statistics bucket of an atom is its arity and head symbol, or its first
token; a first token longer than LMDB's key limit (`MAX_KEY`, a top-level
symbol or literal of about 508 bytes and more) is counted under `LONG_BUCKET`
of its tag, the tag and an empty length that no atom's token has.
"""

from __future__ import annotations

import hashlib

from .encoding import split_tokens

__all__ = [
    "HASHED_LEN",
    "MAX_KEY",
    "MAX_PLAIN",
    "const_prefix",
    "head_key",
    "is_hashed",
    "path_head_key",
    "reverse_key",
    "storage_key",
    "unreverse_key",
]

MAX_PLAIN = 494
HASHED_LEN = MAX_PLAIN + 16
#: LMDB's key limit (its default build): a longer key cannot be stored
MAX_KEY = 511


def storage_key(path: bytes) -> bytes:
    """The primary key of a path."""
    if len(path) <= MAX_PLAIN:
        return path
    return path[:MAX_PLAIN] + hashlib.blake2b(path, digest_size=16).digest()


def is_hashed(key: bytes) -> bool:
    """True for a key whose full path is in its value."""
    return len(key) > MAX_PLAIN


def reverse_key(tokens: list[bytes]) -> bytes:
    """Reverse-index key from the tokens of `(head a1 ... an)`."""
    return tokens[0] + tokens[1] + b"".join(tokens[:1:-1])


def unreverse_key(rkey: bytes) -> bytes:
    """The primary path a reverse-index key stands for."""
    toks = split_tokens(rkey)
    return toks[0] + toks[1] + b"".join(toks[:1:-1])


def head_key(tokens: list[bytes]) -> bytes:
    """The statistics bucket of a path: arity and head for `(h ...)`, else its first token."""
    if len(tokens) > 1 and tokens[0][0] < 0x40 and tokens[1][0] > 0xC0:
        return tokens[0] + tokens[1]
    return _bucket(tokens[0])


def _bucket(token: bytes) -> bytes:
    """A first token as a statistics key: itself, or past `MAX_KEY` its tag and a zero length (the
    extension's text tags need 64 bytes or more, so no token reads so)."""
    return token if len(token) <= MAX_KEY else token[:1] + b"\x00"


def path_head_key(path: bytes) -> bytes:
    """`head_key` of a whole path, reading only its first tokens."""
    tag = path[0]
    if tag < 0x40:
        if len(path) > 1 and path[1] > 0xC0:
            return path[: 2 + (path[1] & 0x3F)]
        return path[:1]
    if tag > 0xC0:
        return path[: 1 + (tag & 0x3F)]
    if tag >= 0x80:
        return path[:1]
    return _bucket(split_tokens(path)[0])


def const_prefix(tokens: list[bytes], limit: int = MAX_PLAIN) -> tuple[bytes, int]:
    """Bytes and token count of the tokens before the first variable, capped at `limit` bytes."""
    out: list[bytes] = []
    size = 0
    for i, t in enumerate(tokens):
        b = t[0]
        if 0x80 <= b <= 0xC0 or b == 0x43:
            return b"".join(out), i
        if size + len(t) > limit:
            return b"".join(out), i
        out.append(t)
        size += len(t)
    return b"".join(out), len(tokens)
