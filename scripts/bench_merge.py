"""Time ``merge_records`` on 5,000 and 20,000 synthetic event records.

The records look like a month of news: sixteen event types, dates over 30 days (some only
week- or month-precise, a few undated), 50 actors, 200 outlets; each story names a few things
of its own (places, people, programmes: drawn from a vocabulary that grows with the input, as
real news does), and about a third of the stories are re-told by other outlets with other
words and sometimes another count. Blocking keeps the work close to linear, so the 20,000 run
should take about four times the 5,000 run.

    .venv/bin/python scripts/bench_merge.py
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import random
import time

from briefer.merging import merge_records
from briefer.models import (
    EVENT_TYPES,
    Actor,
    DatePrecision,
    Document,
    EventRecord,
    Evidence,
    Quantity,
    Source,
)

__all__ = ["main", "synthetic_events"]

VERBS = ["announced", "imposed", "rejected", "proposed", "signed", "condemned", "launched"]
OBJECTS = [
    "sanctions", "talks", "aid", "troops", "missiles", "a treaty", "tariffs", "an inquiry",
    "patrols", "loans", "exports", "a ceasefire", "visas", "drills", "a blockade", "grain",
]  # fmt: skip
WORDS = "over near amid after despite following against toward within beyond".split()  # noqa: SIM905


def _document(i: int) -> Document:
    text = f"Synthetic article {i} " + " ".join(random.Random(i).choices(OBJECTS, k=80))
    return Document(
        source=Source(
            id=f"src-{i:04d}",
            title=f"Article {i}",
            url=None,
            path=None,
            outlet=f"Outlet {i % 200}",
            published=None,
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            tokens=80,
            chars=len(text),
        ),
        text=text,
    )


SYLLABLES = "ka lo mi ru sen dar vo tel an ish pur gol ne zen bri ta".split()  # noqa: SIM905


def _name(rng: random.Random) -> str:
    return "".join(rng.choices(SYLLABLES, k=4))


def synthetic_events(count: int, seed: int = 0) -> tuple[list[EventRecord], list[Document]]:
    rng = random.Random(seed)
    actors = [
        Actor(name=f"Actor {i}", canonical=f"Actor {i}", country=None, kind="government")
        for i in range(50)
    ]
    documents = [_document(i) for i in range(max(10, count // 20))]
    start = dt.date(2022, 1, 1)
    events: list[EventRecord] = []
    while len(events) < count:
        actor, target = rng.sample(actors, 2)
        words = [rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(WORDS), rng.choice(OBJECTS)]
        names = [_name(rng) for _ in range(3)]  # the story's own places, people, programmes
        precision: DatePrecision = rng.choices(["day", "week", "month"], [0.85, 0.1, 0.05])[0]
        date = None if rng.random() < 0.03 else start + dt.timedelta(days=rng.randrange(30))
        event_type = rng.choice(EVENT_TYPES)
        value = float(rng.randint(1, 40))
        copies = 1 + (rng.random() < 0.35) + (rng.random() < 0.1)
        for copy in range(copies):
            if len(events) >= count:
                break
            document = rng.choice(documents)
            told = [*words, "in", *names]
            if copy:
                told[2] = rng.choice(WORDS)  # another outlet's wording
            kept = [n for k, n in enumerate(names) if k != copy]  # each outlet omits a detail
            quote = f"{rng.choice(OBJECTS)} {rng.choice(WORDS)} {' '.join(kept)} {told[0]}"
            events.append(
                EventRecord.model_validate(
                    {
                        "id": f"ev-{len(events):06d}",
                        "type": event_type,
                        "summary": f"{actor.canonical} {' '.join(told)} {target.canonical}.",
                        "actors": [actor],
                        "targets": [target],
                        "date": date,
                        "date_text": None,
                        "date_precision": precision if date else "unknown",
                        "location": None,
                        "quantities": [
                            Quantity(
                                kind="people",
                                value=value + (copy and rng.random() < 0.2),
                                text="some",
                            )
                        ],
                        "factuality": "asserted",
                        "evidence": [
                            Evidence(source_id=document.id, quote=quote, start=0, end=len(quote))
                        ],
                        "confidence": 0.8,
                        "source_id": document.id,
                    }
                )
            )
    return events, documents


def _time_merge(count: int) -> tuple[float, int, int]:
    events, documents = synthetic_events(count)
    # The inputs exist before the merge: keep the collector from rescanning them.
    gc.collect()
    gc.freeze()
    started = time.perf_counter()
    result = merge_records(events, [], documents)
    elapsed = time.perf_counter() - started
    gc.unfreeze()
    return elapsed, result.comparisons, len(result.events)


def main() -> None:
    timings, pairs = {}, {}
    for count in (5_000, 20_000):
        seconds, comparisons, merged = _time_merge(count)
        timings[count], pairs[count] = seconds, comparisons
        print(
            f"{count:>6} records: {seconds:6.2f} s, {comparisons:>8} comparisons, "
            f"{merged} merged events"
        )
    ratio = timings[20_000] / timings[5_000]
    print(f"time ratio 20,000 / 5,000 = {ratio:.2f} (linear would be 4.00)")
    print(f"comparison ratio = {pairs[20_000] / pairs[5_000]:.2f} (all pairs would be 16.00)")


if __name__ == "__main__":
    main()
