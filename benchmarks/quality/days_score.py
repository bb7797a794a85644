"""Score briefer's memory across days on the multi-day stories of ``evals/days/``.

Each story runs day by day through ``briefer.abrief``, in order, with one story store of its
own (``briefer.stories.Store``, in a fresh folder), and a scripted client that answers every
extraction call of an article with that article's careful reply. ``briefer.aextract`` on the
same day tells which records came from which reply item, so every merged event of a day's
briefing maps to the gold stories of its records. Then, for each day and each gold story with a
status that day (``gold.json`` ``statuses``):

- **found**: the day's briefing has an event holding that day's records of the story (target
  ≥ 0.95: a status is scored on that event);
- **status accuracy**: that event's status is the gold one (target ≥ 0.95);
- **change recall**, by kind: each gold change of an updated story is among the event's
  ``changes`` (a figure by its two values, an outlet by its name, a stance by its holder, a
  conflict opened or settled by the kind of value).

Without a store (``briefer.stories`` not there, or a pipeline that takes none) every status is
null: the status figure and the change recall are then not measured, and the report says why,
while the runs and the stories found still are.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import importlib
import inspect
import json
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import briefer
from benchmarks.quality.days import DayStory, check_day_story
from briefer.llm import FunctionClient, LLMRequest
from briefer.text.numbers import numbers_in

__all__ = [
    "CHANGE_KINDS",
    "DAY_TARGETS",
    "DayFigures",
    "DayStoryRun",
    "DaysEvaluation",
    "StoreFactory",
    "evaluate_days",
    "format_days_report",
    "open_store",
    "run_day_story",
    "run_days",
    "score_day_story",
]

# figure -> (target, higher is better)
# Statuses mean something only for stories found in the day's briefing.
DAY_TARGETS: dict[str, tuple[float, bool]] = {
    "found": (0.95, True),
    "status_accuracy": (0.95, True),
    # What changed, found among an updated story's changes (figure, outlet, stance, conflict).
    "change_recall": (0.90, True),
}
CHANGE_KINDS = ("figure", "outlet", "stance", "conflict_opened", "conflict_settled")
StoreFactory = Callable[[Path], Any]


# --- the store --------------------------------------------------------------------------------


def open_store() -> tuple[StoreFactory | None, str | None]:
    """The store to run the days with, ``Store(path)``, and None; or None and why there is
    none (the reason the status figure is not measured)."""
    try:
        module = importlib.import_module("briefer.stories")
    except ImportError:
        return None, "briefer.stories is not there yet, so no run keeps stories across days"
    store = getattr(module, "Store", None)
    if store is None:
        return None, "briefer.stories has no Store yet"
    if _store_keyword() is None:
        return (
            None,
            "briefer.abrief takes no store yet (neither an argument nor a BriefOptions field)",
        )
    factory: StoreFactory = store
    return factory, None


def _store_keyword() -> str | None:
    """Where the pipeline takes a store: a ``BriefOptions`` field, or an ``abrief`` argument."""
    if "store" in {f.name for f in dataclasses.fields(briefer.BriefOptions)}:
        return "options"
    if "store" in inspect.signature(briefer.abrief).parameters:
        return "argument"
    return None


def _close(store: Any) -> None:
    close = getattr(store, "close", None)
    if callable(close):
        close()


# --- running ----------------------------------------------------------------------------------


@dataclass
class DayRun:
    """One day of a story: its briefing, and each record's reply item labels (of every day so
    far, since a story's event carries the earlier days' records)."""

    name: str
    date: dt.date | None
    stems: set[str]  # the day's articles
    briefing: briefer.Briefing


@dataclass
class DayStoryRun:
    story: DayStory
    days: list[DayRun]
    record_labels: dict[str, list[str]]  # record id -> labels of the reply items it came from
    stores: bool  # whether the days ran with a store
    outlet_of: dict[str, str | None] = field(default_factory=dict)  # source id -> outlet


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _reply_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def run_day_story(story: DayStory, store: StoreFactory | None) -> DayStoryRun:
    """Every day of ``story`` in order, with one store of its own when ``store`` is given."""
    labels: dict[str, list[str]] = {}
    outlets: dict[str, str | None] = {}
    runs: list[DayRun] = []
    with tempfile.TemporaryDirectory(prefix="briefer-days-") as folder:
        opened = store(Path(folder) / "stories.sqlite3") if store is not None else None
        try:
            for day in story.days:
                paths = [str(p) for p in day.articles.values()]
                loaded = briefer.load_sources(paths)
                stem_of = {d.id: Path(d.source.path or "").stem for d in loaded.documents}
                outlets.update({d.id: d.source.outlet for d in loaded.documents})

                def answer(request: LLMRequest, stem_of: dict[str, str] = stem_of) -> str:
                    stage = request.context.stage
                    if not stage.startswith("extract"):
                        raise ValueError(f"the day stories have no reply for a {stage} request")
                    stem = stem_of[request.context.source_id or ""]
                    return _reply_text(story.reply(stem))

                options = briefer.BriefOptions(date=day.date, compose=False, concurrency=4)
                outcome = await briefer.aextract(
                    paths, client=FunctionClient(answer), options=options
                )
                labels.update(_record_labels(story, stem_of, outcome))
                extra: dict[str, Any] = {}
                if opened is not None:
                    if _store_keyword() == "options":
                        options = _with_field(options, store=opened)
                    else:
                        extra["store"] = opened
                briefing = await briefer.abrief(
                    paths, client=FunctionClient(answer), options=options, **extra
                )
                runs.append(DayRun(day.name, day.date, set(day.articles), briefing))
        finally:
            if opened is not None:
                _close(opened)
    return DayStoryRun(story, runs, labels, opened is not None, outlets)


# Called without the fields' static check: ``store`` is a field only once the pipeline has it.
_with_field: Callable[..., briefer.BriefOptions] = dataclasses.replace


def _record_labels(
    story: DayStory, stem_of: dict[str, str], outcome: briefer.ExtractOutcome
) -> dict[str, list[str]]:
    """Which reply items each record came from: same article, same summary (an event) or
    claim (a stance), whitespace aside."""
    by_key: dict[tuple[str, str, str], list[str]] = {}
    for sid, stem in stem_of.items():
        reply = story.reply(stem) or {}
        for n, event in enumerate(reply.get("events", [])):
            by_key.setdefault((sid, "e", _norm(event["summary"])), []).append(f"{stem}:e{n}")
        for n, stance in enumerate(reply.get("stances", [])):
            by_key.setdefault((sid, "s", _norm(stance["claim"])), []).append(f"{stem}:s{n}")
    labels = {
        e.id: by_key.get((e.source_id, "e", _norm(e.summary)), [])
        for e in outcome.extraction.events
    }
    labels.update(
        {
            s.id: by_key.get((s.source_id, "s", _norm(s.claim)), [])
            for s in outcome.extraction.stances
        }
    )
    return labels


# --- scoring ----------------------------------------------------------------------------------


@dataclass
class DayFigures:
    """Counts behind the figures, summable over stories."""

    days: int = 0
    pairs: int = 0  # (day, gold story) pairs with a gold status
    found: int = 0
    status_right: int = 0
    status_measured: int = 0
    changes_gold: Counter[str] = field(default_factory=Counter)
    changes_found: Counter[str] = field(default_factory=Counter)
    changes_spurious: int = 0
    skipped: str | None = None  # why the statuses were not measured
    mistakes: list[str] = field(default_factory=list)

    def add(self, other: DayFigures) -> None:
        self.days += other.days
        self.pairs += other.pairs
        self.found += other.found
        self.status_right += other.status_right
        self.status_measured += other.status_measured
        self.changes_gold.update(other.changes_gold)
        self.changes_found.update(other.changes_found)
        self.changes_spurious += other.changes_spurious
        self.skipped = self.skipped or other.skipped
        self.mistakes.extend(other.mistakes)

    def value(self, name: str) -> float | None:
        if name == "found":
            return self.found / self.pairs if self.pairs else None
        if name == "status_accuracy":
            return self.status_right / self.status_measured if self.status_measured else None
        if name == "changes_spurious":
            return float(self.changes_spurious) if self.status_measured else None
        if name == "change_recall":
            gold = sum(self.changes_gold.values())
            measured = self.status_measured and gold
            return sum(self.changes_found.values()) / gold if measured else None
        if name.startswith("recall_"):
            kind = name.removeprefix("recall_")
            gold = self.changes_gold[kind]
            measured = self.status_measured and gold
            return self.changes_found[kind] / gold if measured else None
        raise KeyError(name)


def _outlet_key(name: str | None) -> str:
    key = re.sub(r"[^\w ]+", " ", (name or "").casefold())
    return " ".join(key.split()).removeprefix("the ")


def _field_class(name: str | None) -> str:
    name = name or "quantity"
    return "quantity" if name.startswith("quantit") else name


def _number(words: str | None) -> float | None:
    found = numbers_in(words or "")
    return found[0][1] if found else None


def _matches(gold: dict[str, Any], change: Any, outlet_of: dict[str, str | None]) -> bool:
    """Whether the event's ``change`` is the gold change ``gold``."""
    if change.kind != gold["kind"]:
        return False
    kind = gold["kind"]
    if kind == "figure":
        return (
            _field_class(change.field) == gold["field"]
            and _number(change.before) == float(gold["from"])
            and _number(change.after) == float(gold["to"])
        )
    if kind == "outlet":
        named = {_outlet_key(change.outlet)}
        named |= {_outlet_key(outlet_of.get(sid)) for sid in change.source_ids}
        return _outlet_key(gold["outlet"]) in named
    if kind == "stance":
        want, got = _outlet_key(gold["holder"]), _outlet_key(change.holder)
        return bool(got) and (want == got or want in got or got in want)
    return bool(_field_class(change.field) == gold["field"])


def _labels_of(run: DayStoryRun, members: Iterable[str]) -> set[str]:
    return {label for m in members for label in run.record_labels.get(m, [])}


def score_day_story(run: DayStoryRun, skipped: str | None = None) -> DayFigures:
    """The figures of one story's days (see the module docstring)."""
    fig = DayFigures(days=len(run.days), skipped=None if run.stores else skipped)
    gold_events: dict[str, Any] = run.story.gold.get("events", {})
    statuses: dict[str, Any] = run.story.gold.get("statuses", {})
    name = run.story.name
    for day in run.days:
        for story_name, entry in sorted(statuses.get(day.name, {}).items()):
            fig.pairs += 1
            today = {
                label
                for label, g in gold_events.items()
                if g.get("story") == story_name and label.split(":", 1)[0] in day.stems
            }
            held = [(len(today & _labels_of(run, e.members)), e) for e in day.briefing.events]
            count, event = max(held, key=lambda pair: pair[0], default=(0, None))
            if event is None or count == 0:
                fig.mistakes.append(f"{name} {day.name}: no event holds {story_name}")
                continue
            fig.found += 1
            if not run.stores:
                continue
            fig.status_measured += 1
            want = entry["status"]
            fig.status_right += event.status == want
            if event.status != want:
                fig.mistakes.append(
                    f"{name} {day.name}: {story_name} is {event.status}, want {want}"
                )
            _score_changes(fig, run, f"{name} {day.name} {story_name}", entry, event)
    return fig


def _score_changes(
    fig: DayFigures, run: DayStoryRun, where: str, entry: dict[str, Any], event: Any
) -> None:
    matched: set[int] = set()
    for gold in entry.get("changes", []):
        fig.changes_gold[gold["kind"]] += 1
        hit = next(
            (
                n
                for n, change in enumerate(event.changes)
                if n not in matched and _matches(gold, change, run.outlet_of)
            ),
            None,
        )
        if hit is None:
            fig.mistakes.append(f"{where}: change not found: {gold}")
        else:
            matched.add(hit)
            fig.changes_found[gold["kind"]] += 1
    for n, change in enumerate(event.changes):
        if n not in matched:
            fig.changes_spurious += 1
            shown = change.model_dump(exclude_defaults=True, mode="json")
            fig.mistakes.append(f"{where}: change not in the gold: {shown}")


# --- the report -------------------------------------------------------------------------------


@dataclass
class DaysEvaluation:
    per_story: dict[str, DayFigures]
    overall: DayFigures

    def misses(self) -> list[str]:
        """Every target missed, one line each (a figure not measured misses nothing)."""
        out = []
        for name, (target, higher) in DAY_TARGETS.items():
            value = self.overall.value(name)
            if value is not None and ((value < target) if higher else (value > target)):
                out.append(f"days: {name} = {value:.3f}, target {target}")
        return out


def evaluate_days(
    stories: Sequence[DayStory], store: StoreFactory | None = None, skipped: str | None = None
) -> DaysEvaluation:
    """Run and score every story, with ``store`` when given (``open_store`` finds it)."""

    async def all_runs() -> list[DayStoryRun]:
        return [await run_day_story(story, store) for story in stories]

    per_story: dict[str, DayFigures] = {}
    overall = DayFigures(skipped=skipped if store is None else None)
    for run in asyncio.run(all_runs()):
        figures = score_day_story(run, skipped)
        per_story[run.story.name] = figures
        overall.add(figures)
    return DaysEvaluation(per_story, overall)


DAY_COLUMNS: list[tuple[str, str, str]] = [
    ("found", "found", "{:.2f}"),
    ("status_accuracy", "status", "{:.2f}"),
    ("change_recall", "changes R", "{:.2f}"),
    *[(f"recall_{kind}", kind.replace("_", " "), "{:.2f}") for kind in CHANGE_KINDS],
    ("changes_spurious", "spurious", "{:.0f}"),
]


def _cell(fig: DayFigures, name: str, fmt: str) -> str:
    value = fig.value(name)
    return "–" if value is None else fmt.format(value)


def format_days_report(evaluation: DaysEvaluation, *, mistakes: bool = False) -> str:
    """The "days" table: a row per story, one for all, then the targets."""
    head = ["day story", "days", "pairs", *(c[1] for c in DAY_COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, fig in [*evaluation.per_story.items(), ("**all**", evaluation.overall)]:
        cells = [
            name,
            str(fig.days),
            str(fig.pairs),
            *(_cell(fig, c[0], c[2]) for c in DAY_COLUMNS),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| days figure | target | value |", "|---|---|---|"]
    for name, (target, higher) in DAY_TARGETS.items():
        value = evaluation.overall.value(name)
        sign = "≥" if higher else "≤"
        if value is None:
            why = evaluation.overall.skipped or "nothing to measure"
            shown = f"skipped: {why}"
        else:
            ok = value >= target if higher else value <= target
            shown = f"{value:.3f} {'ok' if ok else 'MISSED'}"
        lines.append(f"| {name} | {sign} {target:g} | {shown} |")
    if mistakes:
        lines.append("")
        lines.extend(f"- [days] {m}" for m in evaluation.overall.mistakes)
    return "\n".join(lines)


def run_days(stories: Sequence[DayStory], *, mistakes: bool = False) -> int:
    """Check, run and print the "days" table; 1 when a target is missed, 2 when the stories'
    files have problems."""
    broken = [(s.name, p) for s in stories for p in check_day_story(s)]
    if broken:
        for name, problem in broken:
            print(f"{name}: {problem}")
        print("the day stories have problems: python -m benchmarks.quality.days")
        return 2
    store, skipped = open_store()
    evaluation = evaluate_days(stories, store, skipped)
    print(format_days_report(evaluation, mistakes=mistakes))
    misses = evaluation.misses()
    for miss in misses:
        print(f"target missed: {miss}")
    return 1 if misses else 0
