"""The evaluation set on disk: stories, their replies and gold answers (see ``evals/README.md``).

``load_story`` reads one story folder; ``check_story`` lists what is wrong with it (a reply that
breaks the schema, a quote that is not in its article, a gold entry for an item that does not
exist...), so the files can be trusted before any figure is computed from them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

__all__ = [
    "ADVERSARIAL",
    "CAREFUL",
    "EVALS",
    "STORIES",
    "TAGS",
    "Story",
    "check_story",
    "load_stories",
    "load_story",
]

ROOT = Path(__file__).resolve().parents[2]
EVALS = ROOT / "evals"
STORIES = EVALS / "stories"
CAREFUL = "careful"
ADVERSARIAL = "adversarial"
ARTICLE_SUFFIXES = (".txt", ".html")

TAGS = frozenset(
    [
        "ongoing",
        "consecutive_days",
        "yearless",
        "no_dateline",
        "year_boundary",
        "future_weekday",
        "past_weekday",
        "same_day_two_events",
        "conflict",
        "update",
        "number_words",
        "digits",
        "at_least",
        "more_than",
        "about",
        "range",
        "percent",
        "money",
        "holder_two_topics",
        "holders_opposed",
        "position_change",
        "syndicated",
        "near_copy",
        "outlet_header",
        "outlet_byline",
        "outlet_html_meta",
        "outlet_dateline",
        "outlet_none",
        "injection",
        "alias_collision",
        "html",
        "adv_bad_quantity",
        "adv_generic_quote",
        "adv_wrong_polarity",
        "adv_actor_not_quoted",
        "adv_duplicate",
        "adv_wrong_country",
        "adv_injection_obeyed",
        "adv_compose_number",
        "adv_compose_name",
        "adv_compose_date",
    ]
)
_LABEL = re.compile(r"^(?P<stem>[^:]+):(?P<kind>[es])(?P<index>\d+)$")
_CITATION = re.compile(r"^(?:event:(?P<cluster>.+)|stance:(?P<label>.+))$")


@dataclass
class Story:
    """One story folder, read but not yet run."""

    name: str
    folder: Path
    articles: dict[str, Path]
    replies: dict[str, dict[str, dict[str, Any]]]  # set -> stem -> extraction reply
    compose: dict[str, dict[str, Any] | None]  # set -> composition reply
    gold: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def briefing_date(self) -> dt.date | None:
        value = self.gold.get("briefing_date")
        return dt.date.fromisoformat(value) if value else None

    @property
    def has_adversarial(self) -> bool:
        return any(self.replies[ADVERSARIAL].get(stem) for stem in self.articles)

    def reply_for(self, stem: str, reply_set: str) -> dict[str, Any]:
        """The reply the model gives for ``stem`` in a set: the adversarial one when the
        article has one, else the careful one."""
        if reply_set == ADVERSARIAL and stem in self.replies[ADVERSARIAL]:
            return self.replies[ADVERSARIAL][stem]
        return self.replies[CAREFUL][stem]

    def item_gold(self, reply_set: str, kind: str) -> dict[str, dict[str, Any]]:
        """Gold per item label (``stem:e0``) for the replies the set uses: adversarial entries
        resolved through their ``as`` label, with the mistake they carry kept beside it."""
        section = "events" if kind == "e" else "stances"
        careful: dict[str, dict[str, Any]] = dict(self.gold.get(section, {}))
        if reply_set == CAREFUL:
            return careful
        adversarial_stems = set(self.replies[ADVERSARIAL])
        out = {
            label: entry
            for label, entry in careful.items()
            if label.split(":", 1)[0] not in adversarial_stems
        }
        for label, entry in self.gold.get("adversarial", {}).get(section, {}).items():
            resolved = dict(careful.get(entry["as"], {})) if "as" in entry else {}
            resolved.update({k: v for k, v in entry.items() if k != "as"})
            out[label] = resolved
        return out


def _read_json(path: Path, problems: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{path.name}: cannot be read as JSON ({exc})")
        return None


def load_story(folder: Path) -> Story:
    problems: list[str] = []
    articles = {
        p.stem: p
        for p in sorted((folder / "articles").glob("*"))
        if p.suffix in ARTICLE_SUFFIXES and not p.name.startswith(".")
    }
    replies: dict[str, dict[str, dict[str, Any]]] = {CAREFUL: {}, ADVERSARIAL: {}}
    compose: dict[str, dict[str, Any] | None] = {CAREFUL: None, ADVERSARIAL: None}
    for reply_set, sub in ((CAREFUL, "replies"), (ADVERSARIAL, "adversarial")):
        for path in sorted((folder / sub).glob("*.json")):
            data = _read_json(path, problems)
            if data is None:
                continue
            if path.stem == "compose":
                compose[reply_set] = data
            else:
                replies[reply_set][path.stem] = data
    gold_path = folder / "gold.json"
    gold = _read_json(gold_path, problems) if gold_path.exists() else None
    if gold is None:
        problems.append("gold.json is missing or unreadable")
        gold = {}
    return Story(folder.name, folder, articles, replies, compose, gold, problems)


def load_stories(names: Iterable[str] = ()) -> list[Story]:
    wanted = set(names)
    folders = sorted(p for p in STORIES.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [load_story(f) for f in folders if not wanted or f.name in wanted]


# --- checking ---------------------------------------------------------------------------------


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    )
    return schema


def _article_texts(story: Story) -> dict[str, str]:
    """Each article's text as briefer reads it (header and markup removed)."""
    import briefer

    texts: dict[str, str] = {}
    loaded = briefer.load_sources([str(p) for p in story.articles.values()])
    by_path = {Path(d.source.path or "").stem: d for d in loaded.documents}
    for stem in story.articles:
        if stem in by_path:
            texts[stem] = by_path[stem].text
    for excluded in loaded.excluded:
        story.problems.append(f"article {excluded.input} is not read: {excluded.reason}")
    for stem, doc in by_path.items():
        if doc.source.tokens > 1800:
            story.problems.append(
                f"article {stem} is {doc.source.tokens} tokens: keep it one chunk"
            )
    return texts


def _check_reply(
    story: Story, reply_set: str, stem: str, reply: dict[str, Any], text: str | None
) -> None:
    where = f"{'replies' if reply_set == CAREFUL else 'adversarial'}/{stem}.json"
    if stem not in story.articles:
        story.problems.append(f"{where}: no article {stem}")
        return
    validator = jsonschema.Draft202012Validator(_schema("extraction"))
    for error in validator.iter_errors(reply):
        path = "/".join(str(p) for p in error.absolute_path)
        story.problems.append(f"{where}: schema: {path}: {error.message[:160]}")
    if text is None or reply_set != CAREFUL:
        return
    for kind, items in (("e", reply.get("events", [])), ("s", reply.get("stances", []))):
        for n, item in enumerate(items):
            label = f"{stem}:{kind}{n}"
            for quote in item.get("quotes", []):
                if quote not in text:
                    story.problems.append(f"{where}: {label} quote not verbatim: {quote[:80]!r}")
            for quantity in item.get("quantities", []):
                if quantity.get("text") and quantity["text"] not in text:
                    story.problems.append(
                        f"{where}: {label} quantity text not verbatim: {quantity['text']!r}"
                    )
            date_text = item.get("date_text")
            if date_text and date_text not in text:
                story.problems.append(f"{where}: {label} date_text not verbatim: {date_text!r}")


def _check_labels(story: Story, reply_set: str) -> None:
    for kind in ("e", "s"):
        gold = story.item_gold(reply_set, kind)
        section = "events" if kind == "e" else "stances"
        expected = set()
        for stem in story.articles:
            reply = story.replies[reply_set].get(stem)
            if reply_set == ADVERSARIAL and reply is None:
                continue
            reply = reply or {}
            expected |= {f"{stem}:{kind}{n}" for n in range(len(reply.get(section, [])))}
        where = "gold" if reply_set == CAREFUL else "gold adversarial"
        if reply_set == CAREFUL:
            given = set(story.gold.get(section, {}))
        else:
            given = set(story.gold.get("adversarial", {}).get(section, {}))
        for label in sorted(expected - given):
            story.problems.append(f"{where}: no entry for {label}")
        for label in sorted(given - expected):
            story.problems.append(f"{where}: entry {label} names no reply item")
        for label, entry in sorted(gold.items()):
            if not _LABEL.match(label):
                story.problems.append(f"{where}: bad label {label!r}")
            if kind == "e" and "drop" not in entry:
                if "cluster" not in entry:
                    story.problems.append(f"{where}: {label} has neither cluster nor drop")
                if "date" not in entry:
                    story.problems.append(f"{where}: {label} has no date (ISO, null or period)")
                elif entry["date"] not in (None, "period"):
                    try:
                        dt.date.fromisoformat(entry["date"])
                    except (TypeError, ValueError):
                        story.problems.append(f"{where}: {label} date {entry['date']!r}")
            if kind == "s" and "drop" not in entry:
                if entry.get("polarity") not in ("favor", "against", "neutral"):
                    story.problems.append(f"{where}: {label} has no polarity")
                if not entry.get("topic"):
                    story.problems.append(f"{where}: {label} has no topic")
    for label, entry in story.gold.get("adversarial", {}).get("events", {}).items():
        if "as" in entry and entry["as"] not in story.gold.get("events", {}):
            story.problems.append(f"gold adversarial: {label} is as {entry['as']}, unknown")
    for label, entry in story.gold.get("adversarial", {}).get("stances", {}).items():
        if "as" in entry and entry["as"] not in story.gold.get("stances", {}):
            story.problems.append(f"gold adversarial: {label} is as {entry['as']}, unknown")


def _check_clusters(story: Story) -> None:
    clusters = story.gold.get("clusters", {})
    used = {e["cluster"] for e in story.gold.get("events", {}).values() if "cluster" in e}
    for name in sorted(set(clusters) - used):
        story.problems.append(f"gold: cluster {name} has no member")
    for name, cluster in clusters.items():
        for section in ("conflicts", "updates"):
            for entry in cluster.get(section, []):
                if entry.get("field") not in ("quantity", "date", "location"):
                    story.problems.append(f"gold: {name} {section}: field {entry.get('field')!r}")
                if len(entry.get("values", [])) < 2:
                    story.problems.append(f"gold: {name} {section}: fewer than two values")
                for value in entry.get("values", []):
                    for stem in value.get("articles", []):
                        if stem not in story.articles:
                            story.problems.append(f"gold: {name} {section}: no article {stem}")
                    if section == "updates" and not value.get("date"):
                        story.problems.append(f"gold: {name} updates: a value without date")


def _check_compose(story: Story, reply_set: str) -> None:
    reply = story.compose[reply_set]
    where = f"{'replies' if reply_set == CAREFUL else 'adversarial'}/compose.json"
    if reply is None:
        if reply_set == CAREFUL or story.has_adversarial:
            story.problems.append(f"{where} is missing")
        return
    validator = jsonschema.Draft202012Validator(_schema("compose"))
    for error in validator.iter_errors(reply):
        story.problems.append(f"{where}: schema: {error.message[:160]}")
    clusters = set(story.gold.get("clusters", {})) | {
        e["cluster"] for e in story.gold.get("events", {}).values() if "cluster" in e
    }
    stance_labels = set(story.item_gold(reply_set, "s"))
    texts = []
    for item in reply.get("items", []):
        for sentence in item.get("sentences", []):
            texts.append(sentence.get("text", ""))
            for citation in sentence.get("citations", []):
                match = _CITATION.match(citation)
                if match is None:
                    story.problems.append(f"{where}: citation {citation!r} is not event:/stance:")
                elif match["cluster"] and match["cluster"] not in clusters:
                    story.problems.append(f"{where}: no cluster {match['cluster']}")
                elif match["label"] and match["label"] not in stance_labels:
                    story.problems.append(f"{where}: no stance {match['label']}")
    if reply_set == ADVERSARIAL:
        for sentence in story.gold.get("adversarial", {}).get("compose_unsupported", []):
            if sentence not in texts:
                story.problems.append(
                    f"gold: compose_unsupported not in {where}: {sentence[:60]!r}"
                )


def check_story(story: Story) -> list[str]:
    """Everything wrong with the story's files (an empty list when it can be run)."""
    texts = _article_texts(story)
    gold_articles = story.gold.get("articles", {})
    for stem in story.articles:
        if stem not in gold_articles:
            story.problems.append(f"gold: no entry for article {stem}")
        elif "outlet" not in gold_articles[stem] or "published" not in gold_articles[stem]:
            story.problems.append(f"gold: article {stem} needs outlet and published")
        if stem not in story.replies[CAREFUL]:
            story.problems.append(f"replies/{stem}.json is missing")
    for stem in gold_articles:
        if stem not in story.articles:
            story.problems.append(f"gold: article {stem} is not in articles/")
    for reply_set in (CAREFUL, ADVERSARIAL):
        for stem, reply in story.replies[reply_set].items():
            _check_reply(story, reply_set, stem, reply, texts.get(stem))
        _check_labels(story, reply_set)
        _check_compose(story, reply_set)
    _check_clusters(story)
    for tag in story.gold.get("covers", []):
        if tag not in TAGS:
            story.problems.append(f"gold: unknown tag {tag!r} in covers")
    return story.problems
