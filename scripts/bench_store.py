"""Time the story store at a year's size: recall and save of one day, the story list, the size.

A store is filled with ``--days`` days (365) of ``--articles`` generated articles a day (300):
stories that run for one to ten days, each told by one to five outlets of 120 a day, with a
count that changes from day to day (so days bring figure changes, new outlets and continuing
stories), and every article's events grounded in its own text. Each day goes through
``merge_records``, ``Store.recall`` and ``Store.save``, as a run with a store does. Then one
more day of the same size is timed: recall + save (the store's work in a run), the list of
stories, a text search, one story's timeline, and the file's size per article.

    .venv/bin/python scripts/bench_store.py                 # a year: ~10 minutes to fill
    .venv/bin/python scripts/bench_store.py --days 30       # a month, for a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from briefer.llm.usage import Usage
from briefer.merging import merge_records
from briefer.models import (
    EVENT_TYPES,
    Actor,
    Briefing,
    Document,
    EventRecord,
    Evidence,
    Quantity,
    Source,
)
from briefer.stories import Store

__all__ = ["main"]

START = dt.date(2024, 1, 1)
COUNTRIES = "FRA DEU POL ESP ITA GBR USA CAN BRA PER CHL KEN NGA EGY TUR".split()  # noqa: SIM905
SYLLABLES = "ka lo mi ru sen dar vo tel an ish pur gol ne zen bri ta".split()  # noqa: SIM905
THINGS = ["workers on strike", "families evacuated", "lorries waiting", "people detained"]


def _name(rng: random.Random) -> str:
    return "".join(rng.choices(SYLLABLES, k=3)).capitalize()


@dataclass
class _Story:
    n: int
    actor: Actor
    target: Actor
    type: str
    place: str
    thing: str
    value: int
    ends: int  # the last day it is reported
    outlets: list[int] = field(default_factory=list)


class _World:
    """Stories starting, growing and ending day after day, and the articles telling them."""

    def __init__(self, articles: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.articles = articles
        self.live: list[_Story] = []
        self.count = 0

    def _story(self, day: int) -> _Story:
        rng = self.rng
        self.count += 1
        country, other = rng.sample(COUNTRIES, 2)
        actor = Actor(
            name=f"{_name(rng)} union", canonical=f"{_name(rng)} Union", country=country,
            kind="civil_society",
        )  # fmt: skip
        target = Actor(
            name=f"{_name(rng)} ministry", canonical=f"{_name(rng)} Ministry", country=other,
            kind="government",
        )  # fmt: skip
        return _Story(
            n=self.count,
            actor=actor,
            target=target,
            type=rng.choice(EVENT_TYPES),
            place=_name(rng),
            thing=rng.choice(THINGS),
            value=rng.randint(10, 500),
            ends=day + rng.choice([0, 0, 0, 1, 1, 2, 3, 5, 9]),
        )

    def day(self, day: int) -> tuple[list[Document], list[EventRecord]]:
        rng = self.rng
        self.live = [s for s in self.live if s.ends >= day]
        while len(self.live) < self.articles // 3:
            self.live.append(self._story(day))
        for story in self.live:
            story.value += rng.choice([0, 0, rng.randint(1, 40)])
        date = START + dt.timedelta(days=day)
        documents, events = [], []
        for k in range(self.articles):
            told = [rng.choice(self.live)]
            if rng.random() < 0.3:
                told.append(rng.choice(self.live))
            outlet = rng.randrange(120)
            sentences = []
            for story in told:
                # Each outlet in its own words, around the same names and figure.
                verb = rng.choice(["clashed again", "faced off", "argued on", "met"])
                sentences.append(
                    f"{story.actor.canonical} and {story.target.canonical} {verb} in "
                    f"{story.place} as {story.value} {story.thing.split()[0]} were counted, "
                    f"outlet {outlet} wrote (story {story.n})."
                )
            filler = " ".join(rng.choices(SYLLABLES, k=400))
            text = f"Report {day}-{k}. " + " ".join(sentences) + " " + filler
            digest = hashlib.sha256(text.encode()).hexdigest()
            source = Source(
                id=f"src-{digest[:12]}",
                title=f"Report {day}-{k}",
                url=f"https://outlet{outlet}.example/{day}/{k}",
                path=None,
                outlet=f"Outlet {outlet}",
                published=date,
                sha256=digest,
                tokens=len(text.split()),
                chars=len(text),
            )
            documents.append(Document(source=source, text=text))
            for story, sentence in zip(told, sentences, strict=True):
                start = text.index(sentence)
                words = f"{story.value} {story.thing.split()[0]}"
                events.append(
                    EventRecord(
                        id=f"ev-{digest[:8]}{story.n:06d}",
                        type=story.type,
                        summary=f"{story.actor.canonical} and {story.target.canonical} clashed "
                        f"in {story.place}.",
                        actors=[story.actor],
                        targets=[story.target],
                        date=date,
                        date_text=None,
                        date_precision="day",
                        location=story.place,
                        quantities=[
                            Quantity(kind=story.thing, value=float(story.value), text=words)
                        ],
                        factuality="asserted",
                        evidence=[
                            Evidence(
                                source_id=source.id,
                                quote=sentence,
                                start=start,
                                end=start + len(sentence),
                            )
                        ],
                        confidence=0.9,
                        source_id=source.id,
                    )
                )
        return documents, events


def _run(store: Store, world: _World, day: int) -> tuple[float, float, float, dict[str, int]]:
    documents, events = world.day(day)
    date = START + dt.timedelta(days=day)
    started = time.perf_counter()
    merged = merge_records(events, [], documents)
    merging = time.perf_counter() - started
    started = time.perf_counter()
    recall = store.recall(merged, documents, day=date)
    recalled = time.perf_counter() - started
    briefing = Briefing(
        date=date,
        title=f"Day {day}",
        generated_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        model="bench",
        composer="deterministic",
        items=[],
        events=recall.events,
        stances=[],
        sources=[*(d.source for d in documents), *recall.earlier_sources],
        excluded=[],
        usage=Usage(),
    )
    started = time.perf_counter()
    store.save(recall, briefing, (events, []), documents)
    saved = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for event in recall.events:
        statuses[event.status or "none"] = statuses.get(event.status or "none", 0) + 1
    return merging, recalled, saved, statuses


def _best(seconds: list[float]) -> str:
    median = sorted(seconds)[len(seconds) // 2]
    return f"{min(seconds):.3f} s (best of {len(seconds)}; median {median:.3f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--store", type=Path, help="keep the store in this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="briefer-bench-") as folder:
        path = args.store or Path(folder) / "stories.db"
        world = _World(args.articles)
        filled = time.perf_counter()
        with Store(path) as store:
            # A kept store (--store) is filled once: its days are generated again, not saved.
            stored = len(store.briefings())
            timed = max(stored, args.days)  # the day timed: the one after the stored ones
            for day in range(timed):
                if day < stored:
                    world.day(day)
                    continue
                _run(store, world, day)
                if day % 30 == 29:
                    print(f"  {day + 1} days stored ({time.perf_counter() - filled:.0f} s)")
            merging, recalled, saved, statuses = _run(store, world, timed)
            print(f"day {timed + 1} against {timed} stored days: {statuses}")
            print(f"  merge_records (the pipeline's, not the store's): {merging:.3f} s")
            print(f"  recall: {recalled:.3f} s   save: {saved:.3f} s   store work: "
                  f"{recalled + saved:.3f} s (target < 1 s)")  # fmt: skip
            listed = []
            for _ in range(5):
                started = time.perf_counter()
                stories = store.stories()
                listed.append(time.perf_counter() - started)
            print(f"stories() of all {len(stories)}: {_best(listed)} (target < 0.3 s)")
            recent, searched, told = [], [], []
            for _ in range(5):
                started = time.perf_counter()
                store.stories(limit=50)
                recent.append(time.perf_counter() - started)
                started = time.perf_counter()
                store.stories(text=stories[0].title.split()[0])
                searched.append(time.perf_counter() - started)
                started = time.perf_counter()
                store.story(stories[0].id)
                told.append(time.perf_counter() - started)
            print(f"stories(limit=50): {_best(recent)}")
            print(f"stories(text=...): {_best(searched)}")
            print(f"story(id): {_best(told)}")
        size = path.stat().st_size + sum(
            p.stat().st_size for p in path.parent.glob(path.name + "-*")
        )
        articles = args.articles * (timed + 1)
        print(f"size: {size / 1e6:.1f} MB, {size / articles / 1024:.2f} KiB per article "
              f"({articles} articles)")  # fmt: skip


if __name__ == "__main__":
    main()
