"""Keyed digests of a run's head: anchors kept outside the database (``rexnet digest``).

The hash chain makes any change of a stored event visible, unless whoever changes it also
re-chains everything after it and moves the run's head, which anyone who can write the database
can do. A digest closes that gap: it states, under a key the database never sees, "run R had the
hash H at seq S (S + 1 events)". Later, ``rexnet audit R --digest FILE`` checks that the log still
has exactly that hash at that seq (and an intact chain up to it): a log cut back (truncation), a
history rewritten and re-chained, or a whole run replaced are then all detected.

The digest is a small JSON file::

    {"format": "rexnet-digest/1", "alg": "hmac-sha256", "key_id": "...", "run_id": "...",
     "seq": 35880, "events": 35881, "head_hash": "...", "mac": "..."}

``mac`` is HMAC-SHA256 (the standard library's :mod:`hmac`) over :func:`_message` of the other
fields; ``key_id`` (the first 16 hex digits of the key's SHA-256) tells a wrong key from an altered
digest. The key is 32 random bytes, stored hex-encoded in a file of its own that only its owner
may read (``rexnet digest --new-key FILE``); keep it, and ideally the digests, away from the ledger
(another machine, a vault): whoever holds the key can make digests.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from rexnet.errors import CheckFailed, InputError
from rexnet.replay.history import check_chain, read_history

FORMAT = "rexnet-digest/1"
ALG = "hmac-sha256"
#: key length written by :func:`new_key`, and the least accepted from a key file
KEY_BYTES = 32
#: a digest file is a few hundred bytes: refuse to read anything much larger
_MAX_FILE = 64 * 1024


@dataclass(frozen=True)
class Digest:
    """What a digest states: run ``run_id`` had ``head_hash`` (hex) at ``seq`` (``events`` = seq + 1)."""

    run_id: str
    seq: int
    events: int
    head_hash: str
    key_id: str
    mac: str

    def to_record(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "alg": ALG,
            "key_id": self.key_id,
            "run_id": self.run_id,
            "seq": self.seq,
            "events": self.events,
            "head_hash": self.head_hash,
            "mac": self.mac,
        }


# -- keys --------------------------------------------------------------------------------------------
def new_key(path: str) -> str:
    """Write a new random key to ``path`` (created, never overwritten, mode 0600); its key id.

    Raises:
        InputError: the file exists or cannot be created.
    """
    key = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"--new-key {path}: the file exists (a key is never overwritten)") from None
    except OSError as error:
        raise InputError(f"--new-key {path}: {error.strerror}") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
    return key_id(key)


def load_key(path: str | None) -> bytes:
    """The key in file ``path`` (hex, as :func:`new_key` writes it).

    Raises:
        InputError: no path, an unreadable file, or not a key of at least :data:`KEY_BYTES` bytes.
    """
    if not path:
        raise InputError(
            "a digest needs a key: --key FILE or REXNET_DIGEST_KEY "
            "(make one with `rexnet digest --new-key FILE`)"
        )
    text = _read_small(path, "--key")
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise InputError(
            f"--key {path}: not a key file (expected hex, as `rexnet digest --new-key` writes)"
        ) from None
    if len(key) < KEY_BYTES:
        raise InputError(f"--key {path}: a key must have at least {KEY_BYTES} bytes, this one has {len(key)}")
    return key


def key_id(key: bytes) -> str:
    """A public name of ``key``: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:16]


# -- digests -----------------------------------------------------------------------------------------
def _message(run_id: str, seq: int, events: int, head_hash: str) -> bytes:
    """The bytes the MAC covers: every stated field, one per line, after the format name."""
    return f"{FORMAT}\n{ALG}\n{run_id}\n{seq}\n{events}\n{head_hash}\n".encode()


def _mac(key: bytes, run_id: str, seq: int, events: int, head_hash: str) -> str:
    return hmac.new(key, _message(run_id, seq, events, head_hash), hashlib.sha256).hexdigest()


def make_digest(store: Any, run: Any, key: bytes) -> Digest:
    """A digest of ``run``'s current head, after checking its hash chain.

    Raises:
        CheckFailed: the chain is broken (a broken history is not anchored).
    """
    bad = check_chain(store, run)
    if bad is not None:
        raise CheckFailed(f"run {run.run_id}: hash chain broken at seq {bad}: not digested")
    head = run.head_hash.hex()
    return Digest(
        run.run_id,
        run.head_seq,
        run.head_seq + 1,
        head,
        key_id(key),
        _mac(key, run.run_id, run.head_seq, run.head_seq + 1, head),
    )


def dumps(digest: Digest) -> str:
    return orjson.dumps(digest.to_record(), option=orjson.OPT_INDENT_2).decode() + "\n"


def read_digest(path: str, key: bytes) -> Digest:
    """The digest in file ``path``, its MAC checked with ``key``.

    Raises:
        InputError: not a digest file, or a digest made with another key (exit 2).
        CheckFailed: the MAC does not match: the digest was altered (exit 1).
    """
    text = _read_small(path, "--digest")
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise InputError(f"--digest {path}: not JSON ({error})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("alg") != ALG:
        raise InputError(f"--digest {path}: not a {FORMAT} digest with alg {ALG}")
    fields = {"run_id": str, "seq": int, "events": int, "head_hash": str, "key_id": str, "mac": str}
    for name, kind in fields.items():
        value = record.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InputError(f"--digest {path}: field {name!r} is missing or not a {kind.__name__}")
    digest = Digest(**{name: record[name] for name in fields})
    if not hmac.compare_digest(digest.key_id, key_id(key)):
        raise InputError(f"--digest {path}: made with key {digest.key_id}, not with this key ({key_id(key)})")
    expected = _mac(key, digest.run_id, digest.seq, digest.events, digest.head_hash)
    if not hmac.compare_digest(digest.mac, expected):
        raise CheckFailed(f"--digest {path}: its MAC does not match its contents: the digest was altered")
    return digest


def check_against(store: Any, run: Any, digest: Digest) -> str | None:
    """Whether ``run``'s log still extends ``digest``'s prefix; ``None`` when it does, else why not.

    The caller has checked the chain of the whole history (so the hash at the digested seq
    stands for every event up to it).
    """
    if digest.run_id != run.run_id:
        return f"the digest is of run {digest.run_id}, not of run {run.run_id}"
    if digest.events != digest.seq + 1:
        return f"the digest states {digest.events} events at seq {digest.seq}"
    if run.head_seq < digest.seq:
        return (
            f"the log ends at seq {run.head_seq}, before the digested seq {digest.seq}: "
            f"{digest.seq - run.head_seq} events were cut off"
        )
    row = next(read_history(store, run, from_seq=digest.seq, to_seq=digest.seq), None)
    stored = row.hash.hex() if row is not None else "(none)"
    if stored != digest.head_hash:
        return (
            f"seq {digest.seq}: the stored hash {stored[:16]} is not the digested {digest.head_hash[:16]}: "
            f"history up to seq {digest.seq} was rewritten"
        )
    return None


def _read_small(path: str, option: str) -> str:
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(_MAX_FILE + 1)
    except OSError as error:
        raise InputError(f"{option} {path}: {error.strerror}") from None
    if len(data) > _MAX_FILE:
        raise InputError(f"{option} {path}: too large for a {'key' if option == '--key' else 'digest'} file")
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise InputError(f"{option} {path}: not text") from None
