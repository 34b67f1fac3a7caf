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

Two kinds of key (``alg``):

* ``hmac-sha256`` (the default; the standard library's :mod:`hmac`): a 32-byte random secret,
  stored hex-encoded in a file only its owner may read. Whoever checks a digest needs the same
  secret, and so could also make digests.
* ``ed25519`` (the ``cryptography`` package, ``pip install 'rexnet[sign]'``): a private key (PEM,
  mode 0600) signs, and its public key (``FILE.pub``) is enough to check. An auditor, or the
  ledger's host, can then verify digests without being able to make them.

``mac`` (HMAC) or ``signature`` (Ed25519) covers :func:`_message` of the stated fields;
``key_id`` (16 hex digits of the SHA-256 of the secret, or of the raw public key) tells a wrong
key from an altered digest. Keep the key, and ideally the digests, away from the ledger (another
machine, a vault).
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
from rexnet.store.recorder import LedgerReader
from rexnet.store.records import RunInfo

FORMAT = "rexnet-digest/1"
HMAC, ED25519 = "hmac-sha256", "ed25519"
ALGS = (HMAC, ED25519)
#: the digest field holding the MAC or the signature, per alg
_PROOF = {HMAC: "mac", ED25519: "signature"}
#: key length written by :func:`new_key`, and the least accepted from a key file
KEY_BYTES = 32
#: a digest file is a few hundred bytes: refuse to read anything much larger
_MAX_FILE = 64 * 1024


@dataclass(frozen=True)
class Digest:
    """What a digest states: run ``run_id`` had ``head_hash`` (hex) at ``seq`` (``events`` = seq + 1),
    under key ``key_id`` of kind ``alg``; ``proof`` is the MAC or the signature (hex)."""

    run_id: str
    seq: int
    events: int
    head_hash: str
    alg: str
    key_id: str
    proof: str

    def to_record(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "alg": self.alg,
            "key_id": self.key_id,
            "run_id": self.run_id,
            "seq": self.seq,
            "events": self.events,
            "head_hash": self.head_hash,
            _PROOF[self.alg]: self.proof,
        }


@dataclass(frozen=True)
class Key:
    """A loaded key: the HMAC secret, or an Ed25519 private key (signs and verifies) or public
    key (verifies only)."""

    alg: str
    key_id: str
    secret: bytes = b""
    private: Any = None
    public: Any = None

    def sign(self, message: bytes) -> str:
        if self.alg == HMAC:
            return hmac.new(self.secret, message, hashlib.sha256).hexdigest()
        if self.private is None:
            raise InputError(f"key {self.key_id} is a public key: it can check digests, not make them")
        return str(self.private.sign(message).hex())

    def verify(self, message: bytes, proof: str) -> bool:
        if self.alg == HMAC:
            return hmac.compare_digest(self.sign(message), proof)
        from cryptography.exceptions import InvalidSignature

        try:
            self.public.verify(bytes.fromhex(proof), message)
        except (InvalidSignature, ValueError):
            return False
        return True


# -- keys --------------------------------------------------------------------------------------------
def new_key(path: str, *, alg: str = HMAC) -> str:
    """Write a new random key to ``path`` (created, never overwritten, mode 0600); its key id.

    An Ed25519 key also writes its public key to ``path.pub`` (mode 0644), for those who only
    check digests.

    Raises:
        InputError: a file exists or cannot be created, or the alg needs a missing package.
    """
    if alg == HMAC:
        secret = secrets.token_bytes(KEY_BYTES)
        _create(path, (secret.hex() + "\n").encode(), 0o600)
        return key_id(secret)
    serialization, ed25519 = _crypto()
    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pub = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if os.path.exists(path + ".pub"):
        raise InputError(f"--new-key {path}: {path}.pub exists (a key is never overwritten)")
    _create(path, pem, 0o600)
    _create(path + ".pub", pub, 0o644)
    return _public_id(serialization, public)


def load_key(path: str | None) -> Key:
    """The key in file ``path``: hex (an HMAC secret, as :func:`new_key` writes it) or PEM (an
    Ed25519 private or public key).

    Raises:
        InputError: no path, an unreadable file, or not a key.
    """
    if not path:
        raise InputError(
            "a digest needs a key: --key FILE or REXNET_DIGEST_KEY "
            "(make one with `rexnet digest --new-key FILE`)"
        )
    text = _read_small(path, "--key").strip()
    if text.startswith("-----BEGIN"):
        return _load_pem(path, text.encode())
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise InputError(
            f"--key {path}: not a key file (hex or PEM, as `rexnet digest --new-key` writes)"
        ) from None
    if len(secret) < KEY_BYTES:
        raise InputError(
            f"--key {path}: a key must have at least {KEY_BYTES} bytes, this one has {len(secret)}"
        )
    return Key(HMAC, key_id(secret), secret=secret)


def _load_pem(path: str, data: bytes) -> Key:
    serialization, ed25519 = _crypto()
    try:
        if b"PRIVATE KEY" in data:
            private = serialization.load_pem_private_key(data, password=None)
            public = private.public_key()
        else:
            private, public = None, serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as error:
        raise InputError(f"--key {path}: not a usable PEM key ({error})") from None
    if not isinstance(public, ed25519.Ed25519PublicKey):
        raise InputError(f"--key {path}: a PEM key must be Ed25519")
    return Key(ED25519, _public_id(serialization, public), private=private, public=public)


def _crypto() -> tuple[Any, Any]:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise InputError("Ed25519 keys need the cryptography package: pip install 'rexnet[sign]'") from None
    return serialization, ed25519


def _public_id(serialization: Any, public: Any) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key_id(raw)


def _create(path: str, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise InputError(f"--new-key {path}: the file exists (a key is never overwritten)") from None
    except OSError as error:
        raise InputError(f"--new-key {path}: {error.strerror}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def key_id(material: bytes) -> str:
    """A public name of a key: the first 16 hex digits of the SHA-256 of ``material``."""
    return hashlib.sha256(material).hexdigest()[:16]


# -- digests -----------------------------------------------------------------------------------------
def _message(alg: str, run_id: str, seq: int, events: int, head_hash: str) -> bytes:
    """The bytes the MAC or signature covers: every stated field, one per line."""
    return f"{FORMAT}\n{alg}\n{run_id}\n{seq}\n{events}\n{head_hash}\n".encode()


def make_digest(store: LedgerReader, run: RunInfo, key: Key) -> Digest:
    """A digest of ``run``'s current head, after checking its hash chain.

    Raises:
        CheckFailed: the chain is broken (a broken history is not anchored).
        InputError: an Ed25519 public key (it cannot sign).
    """
    bad = check_chain(store, run)
    if bad is not None:
        raise CheckFailed(f"run {run.run_id}: hash chain broken at seq {bad}: not digested")
    seq, head = run.head_seq, run.head_hash.hex()
    proof = key.sign(_message(key.alg, run.run_id, seq, seq + 1, head))
    return Digest(run.run_id, seq, seq + 1, head, key.alg, key.key_id, proof)


def dumps(digest: Digest) -> str:
    return orjson.dumps(digest.to_record(), option=orjson.OPT_INDENT_2).decode() + "\n"


def read_digest(path: str, key: Key) -> Digest:
    """The digest in file ``path``, its MAC or signature checked with ``key``.

    Raises:
        InputError: not a digest file, or a digest made with another key (exit 2).
        CheckFailed: the MAC or signature does not match: the digest was altered (exit 1).
    """
    text = _read_small(path, "--digest")
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise InputError(f"--digest {path}: not JSON ({error})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("alg") not in ALGS:
        raise InputError(f"--digest {path}: not a {FORMAT} digest (alg one of {', '.join(ALGS)})")
    alg = record["alg"]
    fields = {"run_id": str, "seq": int, "events": int, "head_hash": str, "key_id": str, _PROOF[alg]: str}
    for name, kind in fields.items():
        value = record.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InputError(f"--digest {path}: field {name!r} is missing or not a {kind.__name__}")
    digest = Digest(
        record["run_id"],
        record["seq"],
        record["events"],
        record["head_hash"],
        alg,
        record["key_id"],
        record[_PROOF[alg]],
    )
    if alg != key.alg or not hmac.compare_digest(digest.key_id, key.key_id):
        raise InputError(
            f"--digest {path}: made with {alg} key {digest.key_id}, "
            f"not with this key ({key.alg} {key.key_id})"
        )
    if not key.verify(
        _message(alg, digest.run_id, digest.seq, digest.events, digest.head_hash), digest.proof
    ):
        raise CheckFailed(
            f"--digest {path}: its {_PROOF[alg]} does not match its contents: the digest was altered"
        )
    return digest


def check_against(store: LedgerReader, run: RunInfo, digest: Digest) -> str | None:
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
