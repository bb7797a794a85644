"""A stand-in model for benchmarks, served by ``FakeOpenAIServer`` from a separate process.

The replies are shaped like a real model's, so that grounding and merging do real work:

- extraction: events and stances whose quotes are sentences of the article in the request
  (between ``<article>`` and ``</article>``), with actors, dates and counts read from them;
  about one quote in twelve has its quote marks straightened (found by the normalised
  match) and one in forty is not in the article at all (the record is dropped). Replies are
  300-600 tokens.
- compose: a few items, each sentence a quote of a record present in the request and citing
  that record's id, so the checks pass and no follow-up call is needed.

Usage is counted with the real tokenizer (``briefer.llm.tokens``): prompt tokens over the messages
and the schema, completion tokens over the reply. Each reply leaves ``latency`` plus
``per_token_latency`` per completion token after its request was read, as a real server's latency
includes its own work: the time spent making the reply is taken out of the wait. The server runs
in its own process, so the CPU it spends is not the benchmarked process's; its tokenizer is built
before it takes a request.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import random
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from briefer.llm.fake_server import FakeOpenAIServer, FakeReply
from briefer.llm.tokens import count_tokens, get_encoding

__all__ = ["ModelProcess", "compose_reply", "extraction_reply", "handle"]

MESSAGE_OVERHEAD_TOKENS = 4  # role and separators per chat message

_SENTENCE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”]))\s+(?=[\"“A-Z])")
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of\s+)?[A-Z][\w'’.-]*)*")
_NOT_NAMES = {
    "The", "A", "An", "It", "Its", "He", "She", "They", "Any", "Officials", "Hours", "At",
    "In", "On", "Secretary", "State", "Note", "Local", "Health", "Opposition", "Union", "City",
    "Coast", "Jan", "January", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
    "Saturday", "Sunday", "Pyongyang's", "U.S.", "U.N.",
}  # fmt: skip
_COUNTRIES = {
    "North Korea": "PRK", "Pyongyang": "PRK", "South Korea": "KOR", "Seoul": "KOR",
    "China": "CHN", "Beijing": "CHN", "Russia": "RUS", "Moscow": "RUS",
    "United States": "USA", "Washington": "USA", "Treasury": "USA", "Japan": "JPN",
}  # fmt: skip
_TYPES = [
    ("sanction", "SANCTION"), ("designat", "SANCTION"), ("launch", "MOBILIZE"),
    ("fired", "MOBILIZE"), ("test", "MOBILIZE"), ("urged", "REQUEST"), ("asked", "REQUEST"),
    ("called on", "REQUEST"), ("warn", "THREATEN"), ("regret", "PROTEST"),
    ("provocation", "ACCUSE"), ("accus", "ACCUSE"), ("defended", "SUPPORT"),
    ("talks", "CONSULT"), ("dialogue", "CONSULT"), ("reject", "REJECT"), ("oppos", "REJECT"),
    ("approved", "AGREE"), ("welcomed", "SUPPORT"), ("aid", "AID"),
]  # fmt: skip
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
_NUMBER = re.compile(r"\b(\d+(?:\.\d+)?|" + "|".join(_NUMBERS) + r")\b")
_WEEKDAY = re.compile(r"\b(?:on )?(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_POLARITY = [("not the way", "against"), ("no reason", "against"), ("threat", "favor")]


def _article(body: Mapping[str, Any]) -> str | None:
    for message in body.get("messages") or []:
        text = message.get("content") if isinstance(message, dict) else None
        if message.get("role") == "user" and isinstance(text, str) and "<article>" in text:
            start = text.index("<article>") + len("<article>")
            end = text.rfind("</article>")
            return text[start:end].strip("\n") if end > start else None
    return None


def _actor(name: str) -> dict[str, Any]:
    country = next((code for key, code in _COUNTRIES.items() if key in name), None)
    words = name.split()
    if country is not None:
        kind = "government"
    elif any(w in name for w in ("Council", "Nations", "Ministry", "Department", "Party")):
        kind = "international_organization" if "Nations" in name else "government"
    elif len(words) >= 2 and all(w[:1].isupper() for w in words):
        kind = "person"
    else:
        kind = "other"
    canonical = {"Pyongyang": "North Korea", "Washington": "United States"}.get(name, name)
    return {"name": name, "canonical": canonical, "country": country, "kind": kind}


def _names(sentence: str) -> list[str]:
    found: list[str] = []
    for match in _NAME.finditer(sentence):
        words = [w for w in match.group(0).split() if w.strip(".,;:") not in _NOT_NAMES]
        name = " ".join(words).strip(".,’'")
        if len(name) > 2 and name not in found and not name.endswith(" of"):
            found.append(name)
    return found


def _quote(sentence: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 1 / 40:
        return "The talks ended without any agreement, a senior diplomat said privately."
    if roll < 1 / 12 and ("“" in sentence or "”" in sentence):
        return sentence.replace("“", '"').replace("”", '"')
    return sentence


def _event(sentence: str, rng: random.Random) -> dict[str, Any]:
    lower = sentence.lower()
    kind = next((t for key, t in _TYPES if key in lower), None)
    if kind is None:
        digest = hashlib.sha256(" ".join(sorted(set(lower.split()))).encode()).digest()
        kind = ("CONSULT", "SUPPORT", "COOPERATE", "REQUEST", "PROTEST")[digest[0] % 5]
    names = _names(sentence) or [" ".join(sentence.split()[1:3]).strip(",")]
    weekday = _WEEKDAY.search(sentence)
    quantities = [
        {
            "kind": "people" if "Korean" in sentence[m.end() : m.end() + 20] else "count",
            "value": float(_NUMBERS.get(m.group(1), 0) or float(m.group(1))),
            "text": m.group(0),
        }
        for m in list(_NUMBER.finditer(sentence))[:2]
    ]
    words = sentence.split()
    return {
        "type": kind,
        "summary": " ".join(words[:18]).rstrip(",;") + ("." if len(words) > 18 else ""),
        "actors": [_actor(n) for n in names[:1]],
        "targets": [_actor(n) for n in names[1:2]],
        "date_text": weekday.group(0) if weekday else None,
        "location": next((c for c in ("Seoul", "Washington", "Beijing") if c in sentence), None),
        "quantities": quantities,
        "factuality": "future" if " would " in sentence or " may " in sentence else "asserted",
        "quotes": [_quote(sentence, rng)],
        "confidence": round(0.6 + 0.4 * rng.random(), 2),
    }


def _stance(sentence: str, rng: random.Random) -> dict[str, Any]:
    names = _names(sentence) or ["Officials"]
    quoted = re.search(r"[\"“]([^\"“”]{12,})[\"”]", sentence)
    lower = sentence.lower()
    polarity = next((p for key, p in _POLARITY if key in lower), "neutral")
    topic = "sanctions on North Korea" if "sanction" in lower else "North Korea's weapons tests"
    return {
        "holder": _actor(names[-1] if len(names) > 1 else names[0]),
        "topic": topic,
        "target": "United States" if "Washington" in sentence or "U.S." in sentence else None,
        "polarity": polarity,
        "quote_type": "direct" if quoted else "indirect",
        "claim": " ".join(sentence.split()[:12]).rstrip(",;."),
        "quotes": [_quote(quoted.group(1) if quoted else sentence, rng)],
    }


def extraction_reply(article: str, seed: int = 0) -> dict[str, Any]:
    """What a model might extract from ``article``: every quote is one of its sentences."""
    rng = random.Random(f"{seed}:{hashlib.sha256(article.encode()).hexdigest()}")
    sentences = [
        " ".join(s.split())
        for paragraph in article.split("\n\n")
        for s in _SENTENCE.split(paragraph.strip())
        if 40 <= len(s) <= 320 and s == " ".join(s.split())
    ]
    said = [s for s in sentences if "said" in s or "“" in s or '"' in s]
    named = [s for s in sentences if s not in said and _names(s)]
    rest = [s for s in sentences if s not in said and s not in named]
    picked = rng.sample(named, min(3, len(named)))
    picked += rng.sample(rest, min(3 - len(picked), len(rest)))
    events = [_event(s, rng) for s in picked]
    stances = [_stance(s, rng) for s in rng.sample(said, min(2, len(said)))]
    return {"events": events, "stances": stances}


def compose_reply(records_text: str) -> dict[str, Any]:
    """Items that restate the best-ranked events by their quotes, citing their ids."""
    start = records_text.find("{")
    try:
        records = json.loads(records_text[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        return {"items": []}
    items = []
    for event in (records.get("events") or [])[:6]:
        quotes = [q["quote"] for q in event.get("quotes", []) if len(q.get("quote", "")) < 380]
        if not quotes:
            continue
        actors = [a for a in event.get("actors", []) if not any(c.isdigit() for c in a)]
        headline = f"{' and '.join(actors[:2]) or 'Officials'}: {event['type'].lower()}"
        items.append(
            {
                "headline": headline,
                "sentences": [{"text": q, "citations": [event["id"]]} for q in quotes[:2]],
            }
        )
    return {"items": items}


def _schema_name(body: Mapping[str, Any]) -> str:
    fmt = body.get("response_format") or {}
    return str((fmt.get("json_schema") or {}).get("name") or fmt.get("type") or "?")


def _prompt_tokens(body: Mapping[str, Any]) -> int:
    messages = body.get("messages") or []
    tokens = sum(count_tokens(str(m.get("content") or "")) for m in messages)
    tokens += MESSAGE_OVERHEAD_TOKENS * len(messages)
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        tokens += count_tokens(json.dumps(fmt, sort_keys=True, separators=(",", ":")))
    return tokens


# (schema name, completion tokens) of every reply given, in this process, and when the first
# request came (``time.monotonic``, one clock for every process of the machine).
_GIVEN: list[tuple[str, int]] = []
_FIRST_CALL: list[float] = []
_GIVEN_LOCK = threading.Lock()


def handle(
    body: dict[str, Any], *, latency: float = 0.0, per_token_latency: float = 0.0
) -> FakeReply:
    """The server's handler: a realistic reply, with usage counted by the real tokenizer, sent
    ``latency + per_token_latency x completion tokens`` after the call began."""
    started = time.monotonic()
    with _GIVEN_LOCK:
        if not _FIRST_CALL:
            _FIRST_CALL.append(started)
    article = _article(body)
    if article is not None:
        content = extraction_reply(article)
    else:
        last = (body.get("messages") or [{}])[-1]
        content = compose_reply(str(last.get("content") or ""))
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    tokens = count_tokens(text)
    prompt_tokens = _prompt_tokens(body)
    with _GIVEN_LOCK:
        _GIVEN.append((_schema_name(body), tokens))
    wait = latency + per_token_latency * tokens - (time.monotonic() - started)
    return FakeReply.json(
        text, prompt_tokens=prompt_tokens, completion_tokens=tokens, delay=max(0.0, wait)
    )


# --- what the server saw ----------------------------------------------------------------------


@dataclass
class StageReport:
    calls: int = 0
    prefix_tokens: int = 0  # system message + schema, per call, summed
    rest_tokens: int = 0  # every message after the system one, summed
    completion: list[int] = field(default_factory=list)  # completion tokens per reply
    prefixes: set[str] = field(default_factory=set)
    prefix_first: bool = True


def _report(server: FakeOpenAIServer, latency: float, per_token_latency: float) -> dict[str, Any]:
    stages: dict[str, StageReport] = {}
    for received in list(server.requests):
        body = received.body
        stage = stages.setdefault(_schema_name(body), StageReport())
        messages = body.get("messages") or []
        first = messages[0] if messages else {}
        system = str(first.get("content") or "") if first.get("role") == "system" else ""
        fmt = json.dumps(body.get("response_format"), sort_keys=True, separators=(",", ":"))
        stage.calls += 1
        stage.prefixes.add(hashlib.sha256(f"{system}\0{fmt}".encode()).hexdigest())
        article = _article(body)
        # The prefix opens the request and holds nothing of the article: all of it comes after.
        stage.prefix_first &= bool(system) and (article is None or article not in system)
        stage.prefix_tokens += count_tokens(system) + MESSAGE_OVERHEAD_TOKENS
        if (body.get("response_format") or {}).get("type") == "json_schema":
            stage.prefix_tokens += count_tokens(fmt)
        rest = messages[1:] if system else messages
        stage.rest_tokens += sum(
            count_tokens(str(m.get("content") or "")) + MESSAGE_OVERHEAD_TOKENS for m in rest
        )
    with _GIVEN_LOCK:
        for name, tokens in _GIVEN:
            stages.setdefault(name, StageReport()).completion.append(tokens)
    return {
        name: {
            "calls": s.calls,
            "prefix_tokens": s.prefix_tokens,
            "rest_tokens": s.rest_tokens,
            "completion": s.completion,
            "delays": [latency + per_token_latency * t for t in s.completion],
            "prefixes": len(s.prefixes),
            "prefix_first": s.prefix_first,
        }
        for name, s in stages.items()
    }


def _serve(
    conn: multiprocessing.connection.Connection, latency: float, per_token_latency: float
) -> None:
    # The stand-in model's own start (its tokenizer) is no part of the pipeline's time: it is
    # ready before it takes its first request, as a real model server would be.
    get_encoding()
    timed = functools.partial(handle, latency=latency, per_token_latency=per_token_latency)
    with FakeOpenAIServer(timed) as server:
        conn.send(server.base_url)
        while True:
            command = conn.recv()
            if command == "count":
                conn.send(len(server.requests))
            elif command == "first":
                conn.send(_FIRST_CALL[0] if _FIRST_CALL else None)
            elif command == "report":
                conn.send(_report(server, latency, per_token_latency))
            else:
                break
    conn.close()


class ModelProcess:
    """``FakeOpenAIServer`` with ``handle`` in a child process; a context manager."""

    def __init__(self, *, latency: float, per_token_latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, latency, per_token_latency), daemon=True
        )
        self._process.start()
        child.close()
        self.base_url: str = self._conn.recv()

    def requests(self) -> int:
        """How many requests the server has received so far."""
        self._conn.send("count")
        count: int = self._conn.recv()
        return count

    def first_call(self) -> float | None:
        """When the first request reached the server (``time.monotonic``), if one has."""
        self._conn.send("first")
        first: float | None = self._conn.recv()
        return first

    def report(self) -> dict[str, Any]:
        self._conn.send("report")
        report: dict[str, Any] = self._conn.recv()
        return report

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()

    def __enter__(self) -> ModelProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
