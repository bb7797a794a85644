"""The multi-day stories of the evaluation set (see ``evals/days/README.md``).

A day story is one folder of ``evals/days/``: a few days of articles, each day with the careful
model's extraction reply per article, and a gold file saying which story every event and stance
belongs to and what status each story has on each day (``new``, ``updated`` with its changes, or
``continuing``). ``load_day_stories`` reads the folders; ``check_day_story`` lists what is wrong
with one (a reply that breaks the schema, a quote that is not in its article as briefer reads it,
a gold label naming no reply item, a status for a story with no event that day, a story without
its ``new`` status on its first day...), so the files can be trusted before they are run.

    python -m benchmarks.quality.days [NAME ...]    # check every day story, exit 1 on a problem
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from benchmarks.quality.evalset import ARTICLE_SUFFIXES, EVALS, TAGS

__all__ = [
    "CHANGE_KINDS",
    "DAYS",
    "DAY_TAGS",
    "STATUSES",
    "Day",
    "DayStory",
    "check_day_story",
    "load_day_stories",
    "load_day_story",
    "main",
]

ROOT = Path(__file__).resolve().parents[2]
DAYS = EVALS / "days"
MAX_TOKENS = 1800

DAY_TAGS = frozenset(
    [
        "continuing",
        "figure_changed",
        "new_outlet",
        "new_stance",
        "conflict_opened",
        "conflict_settled",
        "gap_day",
        "lookalike",
        "republished",
        "relative_date",
    ]
)
STATUSES = ("new", "updated", "continuing")
FIELDS = ("quantity", "date", "location")
# kind of change -> the keys it must carry besides "kind"
CHANGE_KINDS: dict[str, tuple[str, ...]] = {
    "figure": ("field", "from", "to"),
    "outlet": ("outlet",),
    "stance": ("holder",),
    "conflict_opened": ("field",),
    "conflict_settled": ("field",),
}
_DAY = re.compile(r"^day(?P<n>[1-9]\d*)$")
_LABEL = re.compile(r"^(?P<stem>[^:]+):(?P<kind>[es])(?P<index>\d+)$")


@dataclass
class Day:
    """One day folder of a story: its articles and the careful reply for each."""

    name: str  # "day1"
    folder: Path
    articles: dict[str, Path]  # stem -> article file
    replies: dict[str, dict[str, Any]]  # stem -> extraction reply
    date: dt.date | None = None  # from gold "days"


@dataclass
class DayStory:
    """One multi-day story folder, read but not yet run."""

    name: str
    folder: Path
    days: list[Day]  # in order: day1, day2, ...
    gold: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def articles(self) -> dict[str, Path]:
        """Every article of every day, by stem."""
        return {stem: path for day in self.days for stem, path in day.articles.items()}

    def day_of(self, stem: str) -> Day | None:
        """The day whose folder holds the article ``stem``."""
        for day in self.days:
            if stem in day.articles:
                return day
        return None

    def reply(self, stem: str) -> dict[str, Any] | None:
        for day in self.days:
            if stem in day.replies:
                return day.replies[stem]
        return None


def _read_json(path: Path, problems: list[str], where: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{where}: cannot be read as JSON ({exc})")
        return None


def _parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def load_day_story(folder: Path) -> DayStory:
    problems: list[str] = []
    gold_path = folder / "gold.json"
    gold = _read_json(gold_path, problems, "gold.json") if gold_path.exists() else None
    if not isinstance(gold, dict):
        problems.append("gold.json is missing or is not a JSON object")
        gold = {}
    gold_days = gold.get("days", {}) if isinstance(gold.get("days"), dict) else {}
    numbered = []
    for sub in folder.iterdir():
        match = _DAY.match(sub.name)
        if sub.is_dir() and match:
            numbered.append((int(match["n"]), sub))
    days: list[Day] = []
    seen: dict[str, str] = {}
    for _, sub in sorted(numbered):
        articles: dict[str, Path] = {}
        for path in sorted((sub / "articles").glob("*")):
            if path.suffix not in ARTICLE_SUFFIXES or path.name.startswith("."):
                continue
            if path.stem in articles or path.stem in seen:
                other = seen.get(path.stem, sub.name)
                problems.append(f"{sub.name}: stem {path.stem} is already used on {other}")
                continue
            articles[path.stem] = path
            seen[path.stem] = sub.name
        replies: dict[str, dict[str, Any]] = {}
        for path in sorted((sub / "replies").glob("*.json")):
            data = _read_json(path, problems, f"{sub.name}/replies/{path.name}")
            if isinstance(data, dict):
                replies[path.stem] = data
            elif data is not None:
                problems.append(f"{sub.name}/replies/{path.name}: not a JSON object")
        days.append(Day(sub.name, sub, articles, replies, _parse_date(gold_days.get(sub.name))))
    return DayStory(folder.name, folder, days, gold, problems)


def load_day_stories(root: Path = DAYS, names: Iterable[str] = ()) -> list[DayStory]:
    """Every story folder under ``root`` (or only those named), in name order."""
    wanted = set(names)
    if not root.is_dir():
        return []
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [load_day_story(f) for f in folders if not wanted or f.name in wanted]


# --- checking ---------------------------------------------------------------------------------


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    )
    return schema


def _article_texts(story: DayStory, day: Day) -> dict[str, str]:
    """Each article's text as briefer reads it (header and markup removed), one day's
    articles read together as that day's run reads them."""
    import briefer

    if not day.articles:
        return {}
    texts: dict[str, str] = {}
    loaded = briefer.load_sources([str(p) for p in day.articles.values()])
    by_path = {Path(d.source.path or "").stem: d for d in loaded.documents}
    for stem in day.articles:
        if stem in by_path:
            texts[stem] = by_path[stem].text
        else:
            story.problems.append(f"{day.name}: article {stem} is not read by briefer")
    for excluded in loaded.excluded:
        story.problems.append(
            f"{day.name}: article {excluded.input} is not read: {excluded.reason}"
        )
    for stem, doc in by_path.items():
        if doc.source.tokens > MAX_TOKENS:
            story.problems.append(
                f"{day.name}: article {stem} is {doc.source.tokens} tokens: keep it one chunk"
            )
    return texts


def _check_days(story: DayStory) -> None:
    gold_days = story.gold.get("days")
    if not isinstance(gold_days, dict) or not gold_days:
        story.problems.append("gold: days is missing (day name -> ISO date)")
        return
    folders = {day.name for day in story.days}
    for name in sorted(set(gold_days) - folders):
        story.problems.append(f"gold: days names {name}, which has no folder")
    for name in sorted(folders - set(gold_days)):
        story.problems.append(f"gold: days has no date for folder {name}")
    for name, value in gold_days.items():
        if _parse_date(value) is None:
            story.problems.append(f"gold: days {name} is not an ISO date: {value!r}")
    dated = [(day.name, day.date) for day in story.days if day.date is not None]
    for (before, earlier), (after, later) in itertools.pairwise(dated):
        if later <= earlier:
            story.problems.append(f"gold: {after} ({later}) is not after {before} ({earlier})")
    if len(story.days) < 3:
        story.problems.append(f"only {len(story.days)} day(s): a day story spans 3 to 5 days")
    for day in story.days:
        if not day.articles:
            story.problems.append(f"{day.name}: no article")
    if not (story.folder / "story.md").exists():
        story.problems.append("story.md is missing")


def _check_articles(story: DayStory) -> None:
    gold_articles = story.gold.get("articles", {})
    for day in story.days:
        for stem in day.articles:
            entry = gold_articles.get(stem)
            if not isinstance(entry, dict):
                story.problems.append(f"gold: no entry for article {stem}")
                continue
            missing = [key for key in ("day", "outlet", "published") if key not in entry]
            if missing:
                story.problems.append(f"gold: article {stem} needs {', '.join(missing)}")
            if "day" in entry and entry["day"] != day.name:
                story.problems.append(
                    f"gold: article {stem} is given day {entry['day']!r} but is in {day.name}/"
                )
            published = entry.get("published")
            if published is not None:
                date = _parse_date(published)
                if date is None:
                    story.problems.append(f"gold: article {stem} published {published!r}")
                elif day.date is not None and date > day.date:
                    story.problems.append(
                        f"gold: article {stem} published {date}, after its day {day.date}"
                    )
            if stem not in day.replies:
                story.problems.append(f"{day.name}/replies/{stem}.json is missing")
        for stem in day.replies:
            if stem not in day.articles:
                story.problems.append(f"{day.name}/replies/{stem}.json: no article {stem}")
    for stem in gold_articles:
        if stem not in story.articles:
            story.problems.append(f"gold: article {stem} is in no day's articles/")


def _check_reply(
    story: DayStory, day: Day, stem: str, reply: dict[str, Any], text: str | None
) -> None:
    where = f"{day.name}/replies/{stem}.json"
    validator = jsonschema.Draft202012Validator(_schema("extraction"))
    for error in validator.iter_errors(reply):
        path = "/".join(str(p) for p in error.absolute_path)
        story.problems.append(f"{where}: schema: {path}: {error.message[:160]}")
    if text is None:
        return
    for kind, items in (("e", reply.get("events", [])), ("s", reply.get("stances", []))):
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            label = f"{stem}:{kind}{n}"
            for quote in item.get("quotes", []):
                if isinstance(quote, str) and quote not in text:
                    story.problems.append(f"{where}: {label} quote not verbatim: {quote[:80]!r}")
            for quantity in item.get("quantities", []):
                if quantity.get("text") and quantity["text"] not in text:
                    story.problems.append(
                        f"{where}: {label} quantity text not verbatim: {quantity['text']!r}"
                    )
            date_text = item.get("date_text")
            if date_text and date_text not in text:
                story.problems.append(f"{where}: {label} date_text not verbatim: {date_text!r}")


def _check_labels(story: DayStory) -> None:
    for kind, section in (("e", "events"), ("s", "stances")):
        expected: set[str] = set()
        for day in story.days:
            for stem in day.articles:
                items = (day.replies.get(stem) or {}).get(section, [])
                expected |= {f"{stem}:{kind}{n}" for n in range(len(items))}
        given = story.gold.get(section, {})
        for label in sorted(expected - set(given)):
            story.problems.append(f"gold: no entry for {label}")
        for label in sorted(set(given) - expected):
            story.problems.append(f"gold: entry {label} names no reply item")
        for label, entry in sorted(given.items()):
            if not _LABEL.match(label):
                story.problems.append(f"gold: bad label {label!r}")
            if not isinstance(entry, dict):
                story.problems.append(f"gold: {label} is not an object")
                continue
            if kind == "e":
                if not isinstance(entry.get("story"), str) or not entry["story"]:
                    story.problems.append(f"gold: {label} has no story")
                date = entry.get("date")
                if date not in (None, "period") and _parse_date(date) is None:
                    story.problems.append(f"gold: {label} date {date!r} (ISO, null or period)")
            else:
                if "story" not in entry:
                    story.problems.append(f"gold: {label} has no story (a story id or null)")
                if not entry.get("holder"):
                    story.problems.append(f"gold: {label} has no holder")


def _stem(label: str) -> str:
    return label.split(":", 1)[0]


def _check_statuses(story: DayStory) -> None:
    """Statuses against the events of each day, and the changes against what the replies show:
    a new outlet or a new stance holder on a known story must be listed, and nothing else."""
    gold_articles: dict[str, Any] = story.gold.get("articles", {})
    day_by_stem = {stem: day.name for day in story.days for stem in day.articles}
    order = [day.name for day in story.days]
    # per day and story: the labels, outlets, stance holders and quantity values seen that day
    events: dict[str, dict[str, list[str]]] = {name: {} for name in order}
    outlets: dict[str, dict[str, set[str]]] = {name: {} for name in order}
    holders: dict[str, dict[str, set[str]]] = {name: {} for name in order}
    values: dict[str, dict[str, set[float]]] = {name: {} for name in order}
    for label, entry in story.gold.get("events", {}).items():
        stem = _stem(label)
        day_name = day_by_stem.get(stem)
        if day_name is None or not isinstance(entry, dict) or not entry.get("story"):
            continue
        name = entry["story"]
        events[day_name].setdefault(name, []).append(label)
        outlet = (gold_articles.get(stem) or {}).get("outlet")
        if outlet:
            outlets[day_name].setdefault(name, set()).add(outlet)
        match = _LABEL.match(label)
        index = int(match["index"]) if match else -1
        items = (story.reply(stem) or {}).get("events", [])
        if 0 <= index < len(items):
            for quantity in items[index].get("quantities", []):
                if isinstance(quantity.get("value"), int | float):
                    values[day_name].setdefault(name, set()).add(quantity["value"])
    known = {name for per_day in events.values() for name in per_day}
    for label, entry in story.gold.get("stances", {}).items():
        day_name = day_by_stem.get(_stem(label))
        if day_name is None or not isinstance(entry, dict) or entry.get("story") is None:
            continue
        name = entry["story"]
        if name not in known:
            story.problems.append(f"gold: {label} is about story {name!r}, which has no event")
        elif name not in events[day_name]:
            story.problems.append(
                f"gold: {label} is about {name}, which has no event on {day_name}:"
                " its stance could not show in that day's status"
            )
        if entry.get("holder"):
            holders[day_name].setdefault(name, set()).add(entry["holder"])

    statuses = story.gold.get("statuses")
    if not isinstance(statuses, dict):
        story.problems.append("gold: statuses is missing")
        return
    for name in sorted(set(statuses) - set(order)):
        story.problems.append(f"gold: statuses for {name}, which is not a day of the story")
    first_day = {}
    for day_name in reversed(order):
        for name in events[day_name]:
            first_day[name] = day_name
    for position, day_name in enumerate(order):
        given = statuses.get(day_name, {})
        earlier = order[:position]
        for name in sorted(set(events[day_name]) - set(given)):
            story.problems.append(f"statuses {day_name}: no status for {name}, reported that day")
        for name in sorted(set(given) - set(events[day_name])):
            story.problems.append(f"statuses {day_name}: status for {name}, which has no event")
        for name, entry in sorted(given.items()):
            if name not in events[day_name]:
                continue
            _check_status(
                story,
                day_name,
                name,
                entry,
                first=first_day.get(name) == day_name,
                outlets_then={o for d in earlier for o in outlets[d].get(name, set())},
                outlets_now=outlets[day_name].get(name, set()),
                holders_then={h for d in earlier for h in holders[d].get(name, set())},
                holders_now=holders[day_name].get(name, set()),
                values_then={v for d in earlier for v in values[d].get(name, set())},
                values_now=values[day_name].get(name, set()),
            )


def _check_status(
    story: DayStory,
    day_name: str,
    name: str,
    entry: Any,
    *,
    first: bool,
    outlets_then: set[str],
    outlets_now: set[str],
    holders_then: set[str],
    holders_now: set[str],
    values_then: set[float],
    values_now: set[float],
) -> None:
    where = f"statuses {day_name} {name}"
    if not isinstance(entry, dict) or entry.get("status") not in STATUSES:
        story.problems.append(f"{where}: status must be one of {', '.join(STATUSES)}")
        return
    status = entry["status"]
    changes = entry.get("changes", [])
    if not isinstance(changes, list):
        story.problems.append(f"{where}: changes must be a list")
        return
    if first and status != "new":
        story.problems.append(f"{where}: first reported on {day_name}, so it must be new")
    if not first and status == "new":
        story.problems.append(f"{where}: reported on an earlier day, so it cannot be new")
    if status == "updated" and not changes:
        story.problems.append(f"{where}: updated, but no change is listed")
    if status != "updated" and changes:
        story.problems.append(f"{where}: {status}, but changes are listed")
    listed_outlets: set[str] = set()
    listed_holders: set[str] = set()
    for change in changes:
        kind = change.get("kind") if isinstance(change, dict) else None
        if kind not in CHANGE_KINDS:
            story.problems.append(f"{where}: change kind {kind!r}")
            continue
        missing = [key for key in CHANGE_KINDS[kind] if key not in change]
        if missing:
            story.problems.append(f"{where}: {kind} change needs {', '.join(missing)}")
            continue
        if "field" in change and change["field"] not in FIELDS:
            story.problems.append(f"{where}: {kind} change field {change['field']!r}")
        if kind == "outlet":
            listed_outlets.add(change["outlet"])
        elif kind == "stance":
            listed_holders.add(change["holder"])
        elif kind == "figure" and change["field"] == "quantity":
            if change["to"] not in values_now:
                story.problems.append(
                    f"{where}: figure to {change['to']!r} is in none of the day's quantities"
                )
            if change["from"] not in values_then:
                story.problems.append(
                    f"{where}: figure from {change['from']!r} is in no earlier day's quantities"
                )
    if first:
        return
    for outlet in sorted(outlets_now - outlets_then - listed_outlets):
        story.problems.append(f"{where}: {outlet} reports it for the first time: list the outlet")
    for outlet in sorted(listed_outlets - (outlets_now - outlets_then)):
        story.problems.append(f"{where}: outlet change {outlet!r}, but it is not newly reporting")
    for holder in sorted(holders_now - holders_then - listed_holders):
        story.problems.append(f"{where}: {holder} takes a stance on it first: list the stance")
    for holder in sorted(listed_holders - (holders_now - holders_then)):
        story.problems.append(f"{where}: stance change {holder!r}, but it is not a new holder")


def check_day_story(story: DayStory) -> list[str]:
    """Everything wrong with the story's files (an empty list when it can be run)."""
    _check_days(story)
    _check_articles(story)
    for day in story.days:
        texts = _article_texts(story, day)
        for stem, reply in day.replies.items():
            if stem in day.articles:
                _check_reply(story, day, stem, reply, texts.get(stem))
    _check_labels(story)
    _check_statuses(story)
    covers = story.gold.get("covers", [])
    if not covers:
        story.problems.append("gold: covers is empty")
    for tag in covers:
        if tag not in DAY_TAGS and tag not in TAGS:
            story.problems.append(f"gold: unknown tag {tag!r} in covers")
    return story.problems


def main(argv: Sequence[str] | None = None) -> int:
    """Check every day story (or those named); print the problems; 1 when there are any."""
    names = list(sys.argv[1:] if argv is None else argv)
    stories = load_day_stories(DAYS, names)
    if not stories:
        print(f"no day story found in {DAYS}")
        return 1
    failing = 0
    for story in stories:
        problems = check_day_story(story)
        days = ", ".join(f"{d.name} {d.date or '?'} ({len(d.articles)})" for d in story.days)
        print(f"{story.name}: {'ok' if not problems else f'{len(problems)} problem(s)'} — {days}")
        for problem in problems:
            print(f"  - {problem}")
        failing += bool(problems)
    return 1 if failing else 0


if __name__ == "__main__":
    raise SystemExit(main())
