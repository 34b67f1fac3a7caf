"""Strict types and safe strings: no coercion, no duplicate keys, no look-alike system account,
no terminal escapes printed raw.

Issue 13: ``"unit": true``, numbers as strings and duplicate JSON keys were coerced; TOML
``horizon = true`` was accepted; 10 MB names and control characters were stored and printed raw;
``SYSTEM`` and ``"system "`` traded and both printed as "system".
"""

from __future__ import annotations

import json

import pytest
from input_helpers import GOOD_LINE, assert_refused, invoke, jsonl, ledger

from rexnet.cli.output import escape
from rexnet.domain.limits import is_reserved_agent, name_problem
from rexnet.domain.market import MarketSpec
from rexnet.store import open_store


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"unit": True}, "'unit'"),
        ({"unit": "2"}, "'unit'"),
        ({"unit": 2.0}, "'unit'"),
        ({"unit": None}, "'unit'"),
        ({"price": "40"}, "'price'"),
        ({"price": False}, "'price'"),
        ({"qty": [1]}, "'qty'"),
        ({"qty": {"kw": 1}}, "'qty'"),
        ({"t": "0"}, "'t'"),
        ({"t": True}, "'t'"),
        ({"agent": 7}, "'agent'"),
        ({"ref": ["o"]}, "'ref'"),
        ({"agent": "x" * 65}, "'agent'"),
        ({"agent": "x" * 10_000_000}, "'agent'"),
        ({"agent": "a\x1b[2J"}, "'agent'"),
        ({"ref": "o\u202e1"}, "'ref'"),  # right-to-left override
        ({"agent": "a b"}, "'agent'"),
        ({"agent": ""}, "'agent'"),
        ({"agent": "ｓｙｓｔｅｍ"}, "'agent'"),  # full-width: not NFKC
        ({"side": "BUY"}, "'side'"),
        ({"tif": 1}, "'tif'"),
    ],
)
def test_mistyped_fields_are_refused_naming_field_and_line(sqlite_url, tmp_path, changes, field):
    path = jsonl(tmp_path / "bad.jsonl", {**GOOD_LINE, **changes})
    assert_refused(invoke(sqlite_url, "ingest", str(path)), "line 1", field)
    assert ledger(sqlite_url) == ((), 0)


def test_set_units_must_be_whole_numbers(sqlite_url, tmp_path):
    line = {
        "t": 0,
        "op": "set",
        "agent": "c",
        "ref": "s",
        "side": "buy",
        "units": [3, True],
        "price": 5,
        "qty": 1,
    }
    assert_refused(invoke(sqlite_url, "ingest", str(jsonl(tmp_path / "s.jsonl", line))), "'units.1'")


@pytest.mark.parametrize(
    "raw, words",
    [
        ('{"t": 0, "op": "cancel", "agent": "a", "ref": "o", "ref": "p"}', ("duplicate key 'ref'",)),
        ('{"t": 0, "op": "cancel", "agent": "a", "agent": "a", "ref": "o"}', ("duplicate key 'agent'",)),
        ('{"t": 0, "op": "cancel", "op": "limit", "agent": "a", "ref": "o"}', ("duplicate key 'op'",)),
        ('{"t": 0, "op": "cancel", "agent": "a", "ref": "o", "x": {"k": 1, "k": 2}}', ("duplicate key 'k'",)),
        ('{"t": 0, "op": "cancel", "agent": "a", "ref": "o", "\\u0074": 5}', ("duplicate key 't'",)),
        ("[" * 100_000 + "]" * 100_000, ("nested too deeply",)),
    ],
)
def test_duplicate_keys_and_deep_nesting_are_refused(db_url, tmp_path, raw, words):
    path = tmp_path / "dup.jsonl"
    path.write_text(json.dumps(GOOD_LINE) + "\n" + raw + "\n")
    assert_refused(invoke(db_url, "ingest", str(path)), "line 2", *words)
    assert ledger(db_url) == ((), 0)


@pytest.mark.parametrize(
    "text, words",
    [
        ("[market]\nhorizon = true\n", ("market.horizon", "integer")),
        ('[market]\nhorizon = "8"\n', ("market.horizon", "integer")),
        ("[market]\nhorizon = 8.0\n", ("market.horizon", "integer")),
        ('[market]\ntick = "0.01"\n', ("market.tick", "number")),
        ("[market]\ntick = true\n", ("market.tick", "number")),
        ("[auction]\nopening = 1\n", ("auction.opening", "true or false")),
        ('[auction]\nopening = "yes"\n', ("auction.opening", "true or false")),
        ("[market]\nhorizon = 8\nhorizon = 9\n", ("not valid TOML",)),
        ("[market]\nhorizon = 8\n[market]\ntick = 0.01\n", ("not valid TOML",)),
    ],
)
def test_market_toml_types_are_strict_and_duplicates_refused(sqlite_url, tmp_path, text, words):
    market = tmp_path / "m.toml"
    market.write_text(text)
    result = invoke(
        sqlite_url, "ingest", str(jsonl(tmp_path / "ok.jsonl", GOOD_LINE)), "--market", str(market)
    )
    assert_refused(result, "m.toml", *words)


@pytest.mark.parametrize(
    "text, words",
    [
        ("[run]\nunits = true\n", ("run.units", "integer")),
        ('[run]\nunits = "4"\n', ("run.units", "integer")),
        ("[run]\nprice_prior = true\n", ("run.price_prior", "number")),
        ("[run]\nunits = 2\nunits = 3\n", ("invalid TOML",)),
        ('[[population]]\nkind = "wind"\ncount = 1.5\n', ("population[0].count", "integer")),
        ('[[population]]\nkind = "wind"\ncapacity_kw = "4"\n', ("population[0].capacity_kw", "number")),
        (f'description = "{"x" * 1001}"\n', ("description", "1001 characters")),
        ('name = "a\\u001bb"\n', ("name", "U+001B")),
    ],
)
def test_scenario_toml_types_are_strict(sqlite_url, tmp_path, text, words):
    scenario = tmp_path / "s.toml"
    scenario.write_text('extends = "default"\n' + text)
    assert_refused(invoke(sqlite_url, "run", str(scenario)), "s.toml", *words)
    assert ledger(sqlite_url) == ((), 0)


@pytest.mark.parametrize("agent", ["system", "SYSTEM", "System", "sYsTeM"])
def test_every_spelling_of_system_is_refused_as_an_agent(sqlite_url, tmp_path, agent):
    lines = [
        {**GOOD_LINE, "agent": agent},
        {**GOOD_LINE, "t": 1, "agent": "b", "ref": "o2", "side": "buy"},
        {"t": 1900, "op": "realize", "agent": agent, "unit": 2, "qty": 1},
    ]
    result = invoke(sqlite_url, "ingest", str(jsonl(tmp_path / "sys.jsonl", *lines)), "--name", "sys")
    assert result.exit_code == 0, result.output
    events = [
        json.loads(x) for x in invoke(sqlite_url, "events", "sys", "--format", "jsonl").output.splitlines()
    ]
    rejected = [e for e in events if e["type"] == "order_rejected"]
    assert [e["reason"] for e in rejected] == ["reserved_agent", "reserved_agent"]
    assert not [
        e for e in events if e["type"] in ("trade", "order_accepted", "realized") and e.get("agent") == agent
    ]
    rows = json.loads(invoke(sqlite_url, "accounts", "sys", "--format", "json").output)
    assert agent not in {r["agent"] for r in rows} or agent == "system"


@pytest.mark.parametrize(
    "text", ["system ", " system", "sys tem", "SYSTEM\u200b", "ｓｙｓｔｅｍ", "Ｓystem", "SYSTEM\t"]
)
def test_look_alikes_of_system_are_reserved_or_not_names(text):
    assert is_reserved_agent(text)
    assert name_problem(text) is not None  # and none of them is even an acceptable name


@pytest.mark.parametrize("text", ["systems", "sys", "a-system", "système"])
def test_other_names_are_not_reserved(text):
    assert not is_reserved_agent(text)


def test_table_output_escapes_control_characters_of_stored_strings(sqlite_url):
    # a ledger written by an older or hostile writer: names with terminal escapes, printed safely
    store = open_store(sqlite_url)
    try:
        store.create_run(
            name="evil\x1b]0;owned\x07\x1b[2J\u202e",
            scenario={},
            seed=0,
            code_version="0",
            market=MarketSpec().to_record(),
        )
    finally:
        store.close()
    result = invoke(sqlite_url, "runs")
    assert result.exit_code == 0
    assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
    assert "evil\\x1b]0;owned\\x07\\x1b[2J\\u202e" in result.output
    as_json = json.loads(invoke(sqlite_url, "runs", "--format", "json").output)
    assert as_json[0]["name"] == "evil\x1b]0;owned\x07\x1b[2J\u202e"  # scripts get the exact text
    failed = invoke(sqlite_url, "events", "\x1b[31mnope")
    assert failed.exit_code == 2 and "\x1b" not in failed.output and "\\x1b[31mnope" in failed.output


def test_escape_keeps_printable_text_and_escapes_the_rest():
    assert escape("Grüße, 電力 ok") == "Grüße, 電力 ok"
    assert escape("a\nb\tc\x7f\x9b") == "a\\nb\\tc\\x7f\\x9b"
