"""pyproject.toml lists every package (setuptools cannot find the mapped migrations otherwise)."""

import tomllib
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]


def test_every_package_is_listed():
    config = tomllib.loads((TOP / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(init.parent.relative_to(TOP).parts) for init in (TOP / "rexnet").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject packages: {sorted(found - listed)}"
    assert config["package-dir"]["rexnet._migrations"] == "migrations"
    assert (TOP / "migrations" / "env.py").exists()


def test_the_build_runs_what_it_was_built_as():
    """Under ``REXNET_PURE=1`` (the CI's pure run) nothing is compiled: the reference paths run."""
    import os

    from rexnet import exchange
    from rexnet._compiled import COMPILED, is_compiled
    from rexnet.domain import _codec_fast, codec
    from rexnet.replay import _decode_fast, decode

    assert all((TOP / path).exists() for path in COMPILED)
    setup = (TOP / "setup.py").read_text()
    assert "rexnet/exchange" not in setup  # the list lives in rexnet/_compiled.py only
    if os.environ.get("REXNET_PURE"):
        assert not is_compiled(exchange._fast) and not is_compiled(_codec_fast)
        assert not is_compiled(_decode_fast)
    assert (exchange.EXCHANGE_CLASS is exchange._fast.FastExchange) == is_compiled(exchange._fast)
    assert (codec.CHAIN_ROWS is _codec_fast.chain_rows) == is_compiled(_codec_fast)
    assert (decode.FOLD_CODED is _decode_fast.fold_coded) == is_compiled(_decode_fast)
    assert (decode.FOLD_ROWS is _decode_fast.fold_rows) == is_compiled(_decode_fast)
    assert (decode.EVENT_OF is _decode_fast.event_of) == is_compiled(_decode_fast)
