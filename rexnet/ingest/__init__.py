"""External command streams into the exchange: the JSONL format, its streaming two-pass ingest and
the input journal's hash-chained chunks.

* :mod:`rexnet.ingest.parser`: one line -> one validated command (and market TOML files);
* :mod:`rexnet.ingest.stream`: the whole stream validated and staged before anything is written;
* :mod:`rexnet.ingest.chunks`: the staged commands as the journal's hash-chained chunks.
"""
