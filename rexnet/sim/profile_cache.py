"""A disk cache of computed expected profiles, so a run needs no profile library once warm.

Building the library profiles (:mod:`rexnet.sim.profiles`) imports pandas, pvlib (and SciPy
through it) and demandlib and computes a BDEW year: a fixed cost, paid in every process, that
dominates small runs. The numbers only depend on the profile's key (kind, parameters, site, unit
length), the day of units and the code that computes them, so they are stored once per day of
units and read back bit for bit (raw float64), and a run gives the same events with a cold or a
warm cache (tested).

Safety:

* the file name is a SHA-256 of everything the values depend on: the key, the chunk, this
  format's version, the installed versions of numpy, pandas, pvlib, demandlib and windpowerlib
  and the source of :mod:`rexnet.sim.profiles`; any change there is a different file;
* a file holds its own key and a SHA-256 of its values; one that does not parse, belongs to
  another key, has the wrong length, a wrong digest or a non-finite value is ignored and
  recomputed (and rewritten);
* writes go to a temporary file in the same directory and are renamed into place (readers never
  see half a file); a cache that cannot be written (read-only disk, no home) is skipped silently;
* the cache lives in the user's own cache directory (``$REXNET_CACHE_DIR``, else
  ``$XDG_CACHE_HOME/rexnet``, else ``~/.cache/rexnet``), the same trust as the user's installed
  libraries; ``REXNET_PROFILE_CACHE=0`` switches it off.
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
import sys
import tempfile
from array import array
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

#: bump when the file layout or the meaning of a key changes
FORMAT = 1
_MAGIC = b"RXPC"
_LIBRARIES = ("numpy", "pandas", "pvlib", "demandlib", "windpowerlib")


def enabled() -> bool:
    return os.environ.get("REXNET_PROFILE_CACHE", "1").strip().lower() not in ("0", "off", "false", "no")


def directory() -> Path:
    """Where the profiles are kept (see the module docstring)."""
    explicit = os.environ.get("REXNET_CACHE_DIR")
    if explicit:
        return Path(explicit) / "profiles"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rexnet" / "profiles"


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """The versions of everything a profile's numbers depend on, besides its key."""
    parts = [f"format={FORMAT}", f"byteorder={sys.byteorder}"]
    for name in _LIBRARIES:
        try:
            parts.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name}=none")
    source = Path(__file__).with_name("profiles.py").read_bytes()
    parts.append("profiles=" + hashlib.sha256(source).hexdigest())
    return ";".join(parts)


def _name(key: tuple[Any, ...]) -> tuple[str, bytes]:
    text = repr((key, fingerprint())).encode()
    return hashlib.sha256(text).hexdigest(), text


def load_bytes(key: tuple[Any, ...]) -> bytes | None:
    """The payload stored under ``key``, if a sound file holds it (see the module docstring)."""
    if not enabled():
        return None
    name, text = _name(key)
    try:
        data = (directory() / f"{name}.bin").read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + 4
    if len(data) < head or data[: len(_MAGIC)] != _MAGIC:
        return None
    (klen,) = struct.unpack_from("<I", data, len(_MAGIC))
    body = head + klen
    if data[head:body] != text or len(data) < body + 32:
        return None
    payload = data[body + 32 :]
    if hashlib.sha256(payload).digest() != data[body : body + 32]:
        return None
    return payload


def store_bytes(key: tuple[Any, ...], payload: bytes) -> None:
    """Keep ``payload`` under ``key`` for later processes (best effort: errors are ignored)."""
    if not enabled():
        return
    name, text = _name(key)
    blob = _MAGIC + struct.pack("<I", len(text)) + text + hashlib.sha256(payload).digest() + payload
    try:
        folder = directory()
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".bin")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            os.replace(tmp, folder / f"{name}.bin")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def load(key: tuple[Any, ...], chunk: int, n: int) -> array | None:
    """The ``n`` values of day ``chunk`` of the profile ``key``, if a sound file holds them."""
    payload = load_bytes(("profile", key, chunk, n))
    if payload is None or len(payload) != 8 * n:
        return None
    values = array("d")
    values.frombytes(payload)
    if not all(math.isfinite(v) for v in values):
        return None
    return values


def store(key: tuple[Any, ...], chunk: int, values: array) -> None:
    """Keep day ``chunk`` of the profile ``key`` (best effort)."""
    store_bytes(("profile", key, chunk, len(values)), values.tobytes())
