"""The pure domain: market units, commands, events and their canonical encoding. No I/O."""
