"""Test doubles for code built on briefer: no network, no key, deterministic.

- ``FakeClient``: schema-valid or scripted replies, remembers ``requests``.
- ``FunctionClient``: replies with a function of the request.
- ``FakeOpenAIServer`` and ``FakeReply``: a real HTTP server on 127.0.0.1 speaking the chat
  completions API, scriptable per request (rate limits, 5xx, timeouts, refusals …), to test
  code that talks to an OpenAI-compatible endpoint.
- ``reply_from_schema``: a value valid against a strict JSON Schema.
- ``BatchScript``: how the fake server's next batches end (Files and Batches APIs).

``python -m briefer.testing [--port 8089] [--latency S] [--seed N]`` runs the fake server on its
own until Ctrl-C, for tests of tools that talk to an OpenAI-compatible endpoint.
"""

from __future__ import annotations

from briefer.llm.fake import FakeClient, FunctionClient, Reply, reply_from_schema
from briefer.llm.fake_server import (
    BatchScript,
    FakeOpenAIServer,
    FakeReply,
    ReceivedRequest,
    ReplyHandler,
)

__all__ = [
    "BatchScript",
    "FakeClient",
    "FakeOpenAIServer",
    "FakeReply",
    "FunctionClient",
    "ReceivedRequest",
    "Reply",
    "ReplyHandler",
    "reply_from_schema",
]


def main(argv: list[str] | None = None) -> int:
    """``python -m briefer.testing``: run a ``FakeOpenAIServer`` until Ctrl-C, for tests of
    one's own tools (any OpenAI-compatible client: ``--base-url`` the URL it prints)."""
    import argparse
    import time

    parser = argparse.ArgumentParser(
        prog="python -m briefer.testing",
        description="Serve a fake OpenAI-compatible chat completions API on 127.0.0.1: each "
        "reply is valid against the JSON Schema the request sends (or {}), deterministic for "
        "a request and a seed. Any key is accepted.",
    )
    parser.add_argument("--port", type=int, default=8089, help="port to listen on (default 8089)")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to every reply (default 0)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the replies (default 0)")
    args = parser.parse_args(argv)
    try:
        server = FakeOpenAIServer(port=args.port, latency=args.latency, seed=args.seed).start()
    except OSError as exc:
        parser.exit(2, f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}\n")
    print(f"serving {server.base_url} (Ctrl-C stops it)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
