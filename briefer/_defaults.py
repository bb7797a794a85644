"""The defaults a user sees named in the command line's help, as plain values: the settings
take them as their own defaults, and ``briefer --help`` shows them without loading the
settings (pydantic) at all."""

from __future__ import annotations

MODEL = "gpt-4.1-mini"
TIMEOUT = 60.0  # seconds to wait for each model reply
CONCURRENCY = 8  # model calls in flight at once
