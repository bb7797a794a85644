"""Run the evaluation set through the real pipeline and score the briefings against the gold.

Each story runs twice per reply set (careful, adversarial) through ``briefer.abrief`` with a
scripted client that answers every request the way the story's model would: the extraction call of
an article with that article's reply, the composition call with the story's composition reply
(its ``event:<cluster>`` / ``stance:<label>`` citations replaced by the ids the request carries),
and a composition follow-up with the whole first reply again, as a stubborn model does. The
replies travel through briefer's client layer (``LLMRunner``: schema validation, repair, usage)
exactly as a server's would. A first run without composition tells which merged ids hold which
gold records; ``briefer.aextract`` tells which records came from which reply item.

Every figure is computed here from the gold and the briefing, not from briefer's own checks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import briefer
from benchmarks.quality.evalset import ADVERSARIAL, CAREFUL, Story, check_story, load_stories
from briefer.llm import FunctionClient, LLMRequest

__all__ = ["TARGETS", "Figures", "StoryRun", "evaluate", "run_main", "run_story"]

# figure -> (target, higher is better). Counts of bad things reaching the briefing must be 0.
TARGETS: dict[str, tuple[float, bool]] = {
    "merge_f1": (0.95, True),
    "merge_precision": (0.97, True),
    "conflict_precision": (0.95, True),
    "conflict_recall": (0.95, True),
    "update_vs_conflict": (0.90, True),
    "dates": (0.98, True),
    "published": (0.98, True),
    "polarity": (1.0, True),
    "outlets": (0.95, True),
    "kept": (0.95, True),
    "invented_in_briefing": (0.0, False),
    "unsupported_sentences": (0.0, False),
}


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _sentence_key(text: str) -> str:
    return _norm(text).rstrip(".!?\"'”’ ")


def _outlet_key(name: str | None) -> str | None:
    if not name:
        return None
    key = re.sub(r"[^\w ]+", " ", name.casefold())
    key = " ".join(key.split())
    return key.removeprefix("the ").strip() or None


def _value_key(value: Any) -> str:
    if isinstance(value, (int, float)):
        return f"{float(value):.6g}"
    text = str(value)
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return _norm(text)


# --- running ----------------------------------------------------------------------------------


@dataclass
class StoryRun:
    """One story, one reply set: the briefing and how its records map to the gold labels."""

    story: Story
    reply_set: str
    briefing: briefer.Briefing
    record_labels: dict[str, list[str]]  # record id -> labels of the reply items it came from
    records: dict[str, Any]  # record id -> EventRecord | StanceRecord
    stem_of: dict[str, str]  # source id -> article stem
    cluster_ids: dict[str, str] = field(default_factory=dict)  # gold cluster -> merged id
    stance_ids: dict[str, str] = field(default_factory=dict)  # stance label -> merged id


def _stems(story: Story) -> dict[str, str]:
    loaded = briefer.load_sources([str(p) for p in story.articles.values()])
    return {d.id: Path(d.source.path or "").stem for d in loaded.documents}


def _reply_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Model:
    """Answers each request as the story's model would (see the module docstring)."""

    def __init__(self, story: Story, reply_set: str, stem_of: dict[str, str]) -> None:
        self.story = story
        self.reply_set = reply_set
        self.stem_of = stem_of
        self.cluster_ids: dict[str, str] = {}
        self.stance_ids: dict[str, str] = {}
        self.compose_reply: dict[str, Any] | None = None

    def _translate(self, citation: str) -> str:
        if citation.startswith("event:"):
            return self.cluster_ids.get(citation.removeprefix("event:"), citation)
        if citation.startswith("stance:"):
            return self.stance_ids.get(citation.removeprefix("stance:"), citation)
        return citation

    def _compose(self) -> dict[str, Any]:
        reply = self.story.compose[self.reply_set] or self.story.compose[CAREFUL] or {"items": []}
        return {
            "items": [
                {
                    "headline": item["headline"],
                    "sentences": [
                        {
                            "text": s["text"],
                            "citations": [self._translate(c) for c in s["citations"]],
                        }
                        for s in item["sentences"]
                    ],
                }
                for item in reply["items"]
            ]
        }

    def __call__(self, request: LLMRequest) -> str:
        stage = request.context.stage
        if stage == "extract":
            stem = self.stem_of[request.context.source_id or ""]
            return _reply_text(self.story.reply_for(stem, self.reply_set))
        if stage == "compose":
            # The follow-up (a longer conversation) gets the whole first reply again.
            return _reply_text(self._compose())
        raise ValueError(f"the evaluation has no reply for a {stage} request")


def _record_labels(
    story: Story, reply_set: str, outcome: briefer.ExtractOutcome, stem_of: dict[str, str]
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Which reply items each record came from: same article, same (whitespace-normalised)
    summary for an event, same claim for a stance."""
    by_key: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    id_of = {stem: sid for sid, stem in stem_of.items()}
    for stem in story.articles:
        if stem not in id_of:
            continue
        reply = story.reply_for(stem, reply_set)
        for n, event in enumerate(reply.get("events", [])):
            by_key[(id_of[stem], "e", _norm(event["summary"]))].append(f"{stem}:e{n}")
        for n, stance in enumerate(reply.get("stances", [])):
            by_key[(id_of[stem], "s", _norm(stance["claim"]))].append(f"{stem}:s{n}")
    labels: dict[str, list[str]] = {}
    records: dict[str, Any] = {}
    for record in outcome.extraction.events:
        labels[record.id] = by_key.get((record.source_id, "e", _norm(record.summary)), [])
        records[record.id] = record
    for stance in outcome.extraction.stances:
        labels[stance.id] = by_key.get((stance.source_id, "s", _norm(stance.claim)), [])
        records[stance.id] = stance
    return labels, records


def _majority(labels: Iterable[str], gold: dict[str, dict[str, Any]], key: str) -> str | None:
    counts = Counter(gold[lb][key] for lb in labels if lb in gold and key in gold[lb])
    return counts.most_common(1)[0][0] if counts else None


async def run_story(story: Story, reply_set: str) -> StoryRun:
    stem_of = _stems(story)
    model = _Model(story, reply_set, stem_of)
    paths = [str(p) for p in story.articles.values()]
    date = story.briefing_date

    def options(compose: bool) -> briefer.BriefOptions:
        return briefer.BriefOptions(date=date, compose=compose, concurrency=4)

    outcome = await briefer.aextract(paths, client=FunctionClient(model), options=options(False))
    record_labels, records = _record_labels(story, reply_set, outcome, stem_of)
    plain = await briefer.abrief(paths, client=FunctionClient(model), options=options(False))
    events_gold = story.item_gold(reply_set, "e")
    for event in plain.events:
        labels = [lb for m in event.members for lb in record_labels.get(m, [])]
        cluster = _majority(labels, events_gold, "cluster")
        # The merged event holding most of the cluster's records is the one a model cites.
        if cluster is not None:
            held = sum(events_gold.get(lb, {}).get("cluster") == cluster for lb in labels)
            best = model.cluster_ids.get(cluster)
            if best is None or held > _held(plain, best, record_labels, events_gold, cluster):
                model.cluster_ids[cluster] = event.id
    for stance in plain.stances:
        for member in stance.members:
            for label in record_labels.get(member, []):
                model.stance_ids.setdefault(label, stance.id)
    briefing = await briefer.abrief(paths, client=FunctionClient(model), options=options(True))
    return StoryRun(
        story,
        reply_set,
        briefing,
        record_labels,
        records,
        stem_of,
        dict(model.cluster_ids),
        dict(model.stance_ids),
    )


def _held(
    briefing: briefer.Briefing,
    event_id: str,
    record_labels: dict[str, list[str]],
    gold: dict[str, dict[str, Any]],
    cluster: str,
) -> int:
    event = next(e for e in briefing.events if e.id == event_id)
    labels = [lb for m in event.members for lb in record_labels.get(m, [])]
    return sum(gold.get(lb, {}).get("cluster") == cluster for lb in labels)


# --- scoring ----------------------------------------------------------------------------------


@dataclass
class Figures:
    """Counts behind every figure, summable over stories."""

    b3_p: float = 0.0
    b3_r: float = 0.0
    b3_n: int = 0
    conflicts_predicted: int = 0
    conflicts_gold: int = 0
    conflicts_matched_p: int = 0
    conflicts_matched_g: int = 0
    told_apart: int = 0
    told_apart_n: int = 0
    updates_spurious: int = 0
    dates_right: int = 0
    dates_n: int = 0
    published_right: int = 0
    published_n: int = 0
    polarity_right: int = 0
    polarity_n: int = 0
    outlets_right: int = 0
    outlets_n: int = 0
    outlets_invented: int = 0
    corroboration_right: int = 0
    corroboration_n: int = 0
    kept_right: int = 0
    kept_n: int = 0
    invented: int = 0
    unsupported: int = 0
    compose_kept: int = 0
    compose_n: int = 0
    audit_flagged: int = 0
    audit_n: int = 0
    mistakes: list[str] = field(default_factory=list)

    def add(self, other: Figures) -> None:
        for name in self.__dataclass_fields__:
            if name == "mistakes":
                self.mistakes.extend(other.mistakes)
            else:
                setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def _share(right: float, n: float) -> float | None:
        return right / n if n else None

    def value(self, name: str) -> float | None:
        p = self._share(self.b3_p, self.b3_n)
        r = self._share(self.b3_r, self.b3_n)
        if name == "merge_precision":
            return p
        if name == "merge_recall":
            return r
        if name == "merge_f1":
            return None if p is None or r is None else (2 * p * r / (p + r) if p + r else 0.0)
        if name == "conflict_precision":
            return self._share(self.conflicts_matched_p, self.conflicts_predicted) or (
                1.0 if self.conflicts_predicted == 0 else 0.0
            )
        if name == "conflict_recall":
            return self._share(self.conflicts_matched_g, self.conflicts_gold)
        simple = {
            "update_vs_conflict": (self.told_apart, self.told_apart_n),
            "dates": (self.dates_right, self.dates_n),
            "published": (self.published_right, self.published_n),
            "polarity": (self.polarity_right, self.polarity_n),
            "outlets": (self.outlets_right, self.outlets_n),
            "corroboration": (self.corroboration_right, self.corroboration_n),
            "kept": (self.kept_right, self.kept_n),
            "compose_kept": (self.compose_kept, self.compose_n),
        }
        if name in simple:
            return self._share(*simple[name])
        counts = {
            "invented_in_briefing": self.invented,
            "unsupported_sentences": self.unsupported,
            "updates_spurious": self.updates_spurious,
            "outlets_invented": self.outlets_invented,
            "audit_flagged": self.audit_flagged,
        }
        return float(counts[name])


def _labels_of(run: StoryRun, member_ids: Iterable[str]) -> list[str]:
    return [lb for m in member_ids for lb in run.record_labels.get(m, [])]


def _score_merge(run: StoryRun, gold: dict[str, dict[str, Any]], fig: Figures) -> None:
    kept = {lb: g["cluster"] for lb, g in gold.items() if "cluster" in g}
    predicted: dict[str, set[str]] = {}
    for event in run.briefing.events:
        labels = {lb for lb in _labels_of(run, event.members) if lb in kept}
        for lb in labels:
            predicted.setdefault(lb, labels)
    for lb, cluster in kept.items():
        pred = predicted.get(lb, {lb})
        truth = {x for x, c in kept.items() if c == cluster}
        both = len(pred & truth)
        fig.b3_p += both / len(pred)
        fig.b3_r += both / len(truth)
        fig.b3_n += 1
        if lb not in predicted:
            fig.mistakes.append(f"{run.story.name}: event {lb} ({cluster}) is not in the briefing")
    for lb in kept:
        if lb in predicted:
            extra = {x for x in predicted[lb] if kept[x] != kept[lb]}
            if extra and min(predicted[lb]) == lb:
                fig.mistakes.append(
                    f"{run.story.name}: merged {sorted(predicted[lb])} across clusters "
                    f"{sorted({kept[x] for x in predicted[lb]})}"
                )


def _field_class(name: str) -> str:
    return "quantity" if name.startswith("quantit") else name


Pair = tuple[str, str, frozenset[tuple[str, frozenset[str]]]]  # cluster, field, two values


def _pairs(cluster: str, fld: str, values: list[tuple[str, frozenset[str], int]]) -> set[Pair]:
    """Disagreeing pairs: every two values on different sides, each with its articles."""
    out = set()
    for i, (v1, a1, s1) in enumerate(values):
        for v2, a2, s2 in values[i + 1 :]:
            if s1 != s2 and v1 != v2:
                out.add((cluster, fld, frozenset({(v1, a1), (v2, a2)})))
    return out


def _gold_values(entry: dict[str, Any]) -> list[tuple[str, frozenset[str], int]]:
    # A gold entry lists values that disagree with one another: each its own side.
    return [
        (_value_key(v["value"]), frozenset(v["articles"]), n) for n, v in enumerate(entry["values"])
    ]


def _predicted_values(run: StoryRun, conflict: Any) -> list[tuple[str, frozenset[str], int]]:
    return [
        (
            _value_key(v.value),
            frozenset(run.stem_of.get(s, s) for s in v.source_ids),
            getattr(v, "side", n),  # older briefings put every value on its own side
        )
        for n, v in enumerate(conflict.values)
    ]


def _score_conflicts(run: StoryRun, gold: dict[str, dict[str, Any]], fig: Figures) -> None:
    """Conflicts are scored as pairs of disagreeing values (with their articles), which does
    not depend on how the values are grouped into one conflict or several."""
    clusters = run.story.gold.get("clusters", {})
    gold_entries = [
        (name, c["field"], _pairs(name, c["field"], _gold_values(c)))
        for name, cluster in clusters.items()
        for c in cluster.get("conflicts", [])
    ]
    gold_pairs = set().union(*(p for _, _, p in gold_entries)) if gold_entries else set()
    gold_updates = {
        (name, u["field"], frozenset(_value_key(v["value"]) for v in u["values"]))
        for name, cluster in clusters.items()
        for u in cluster.get("updates", [])
    }
    predicted_pairs: set[Pair] = set()
    predicted_updates = set()
    for event in run.briefing.events:
        cluster = _majority(_labels_of(run, event.members), gold, "cluster") or f"?{event.id}"
        for c in event.conflicts:
            fld = _field_class(c.field)
            predicted_pairs |= _pairs(cluster, fld, _predicted_values(run, c))
        for u in getattr(event, "updates", []) or []:
            predicted_updates.add(
                (
                    cluster,
                    _field_class(u.field),
                    frozenset(_value_key(v.value) for v in u.values),
                )
            )
    fig.conflicts_gold += len(gold_pairs)
    fig.conflicts_predicted += len(predicted_pairs)
    fig.conflicts_matched_g += len(gold_pairs & predicted_pairs)
    fig.conflicts_matched_p += len(predicted_pairs & gold_pairs)
    for missing in gold_pairs - predicted_pairs:
        fig.mistakes.append(f"{run.story.name}: conflict not found {_show(missing)}")
    for extra in predicted_pairs - gold_pairs:
        fig.mistakes.append(f"{run.story.name}: conflict not in gold {_show(extra)}")
    update_values = {(c, f, v) for c, f, v in predicted_updates}
    for name, fld, pairs in gold_entries:
        fig.told_apart_n += 1
        values = frozenset(v for _, _, pair in pairs for v, _ in pair)
        as_update = any(c == name and f == fld and values <= v for c, f, v in update_values)
        fig.told_apart += pairs <= predicted_pairs and not as_update
    for item in gold_updates:
        fig.told_apart_n += 1
        name, fld, values = item
        as_conflict = any(
            c == name and f == fld and {v for v, _ in pair} <= values
            for c, f, pair in predicted_pairs
        )
        ok = item in predicted_updates and not as_conflict
        fig.told_apart += ok
        if not ok:
            fig.mistakes.append(f"{run.story.name}: update not shown as one {_show(item)}")
    spurious = predicted_updates - gold_updates
    fig.updates_spurious += len(spurious)
    for extra in spurious:
        fig.mistakes.append(f"{run.story.name}: update not in gold {_show(extra)}")


def _show(item: tuple[Any, ...]) -> str:
    def simple(x: Any) -> Any:
        if isinstance(x, frozenset):
            return sorted(simple(y) for y in x)
        if isinstance(x, tuple):
            return tuple(simple(y) for y in x)
        return x

    return str(simple(item))


def _score_dates(run: StoryRun, gold: dict[str, dict[str, Any]], fig: Figures) -> None:
    by_label: dict[str, list[Any]] = defaultdict(list)
    for rid, labels in run.record_labels.items():
        for lb in labels:
            by_label[lb].append(run.records[rid])
    for lb, entry in gold.items():
        if "cluster" not in entry or "date" not in entry or ":e" not in lb:
            continue
        fig.dates_n += 1
        want = entry["date"]
        records = by_label.get(lb, [])
        ok = False
        for record in records:
            if want is None:
                ok = record.date is None
            elif want == "period":
                # A week, month or year, placed or not (an undated article's "this week").
                ok = record.date_precision in ("week", "month", "year")
            else:
                ok = record.date_precision == "day" and record.date == dt.date.fromisoformat(want)
        fig.dates_right += ok
        if not ok:
            got = [(str(r.date), r.date_precision, r.date_text) for r in records] or "no record"
            fig.mistakes.append(f"{run.story.name}: date of {lb}: want {want}, got {got}")
    sources = {run.stem_of.get(s.id): s for s in run.briefing.sources}
    for stem, entry in run.story.gold.get("articles", {}).items():
        fig.published_n += 1
        source = sources.get(stem)
        want = entry.get("published")
        got = source.published if source else None
        ok = (got.isoformat() if got else None) == want
        fig.published_right += ok
        if not ok:
            fig.mistakes.append(f"{run.story.name}: published of {stem}: want {want}, got {got}")
        gold_outlet = _outlet_key(entry.get("outlet"))
        got_outlet = _outlet_key(source.outlet if source else None)
        if gold_outlet:
            fig.outlets_n += 1
            fig.outlets_right += got_outlet == gold_outlet
            if got_outlet != gold_outlet:
                fig.mistakes.append(
                    f"{run.story.name}: outlet of {stem}: want {entry.get('outlet')!r}, "
                    f"got {source.outlet if source else None!r}"
                )
        elif got_outlet:
            fig.outlets_invented += 1
            fig.mistakes.append(f"{run.story.name}: outlet of {stem}: none named, got {got_outlet}")


def _score_stances(run: StoryRun, gold: dict[str, dict[str, Any]], fig: Figures) -> None:
    merged_of: dict[str, Any] = {}
    for stance in run.briefing.stances:
        for lb in _labels_of(run, stance.members):
            merged_of.setdefault(lb, stance)
    for lb, entry in gold.items():
        if "drop" in entry or "wrong_polarity" in entry:
            continue
        fig.polarity_n += 1
        merged = merged_of.get(lb)
        ok = merged is not None and merged.polarity == entry["polarity"]
        fig.polarity_right += ok
        if not ok:
            got = merged.polarity if merged is not None else "not in the briefing"
            fig.mistakes.append(
                f"{run.story.name}: polarity of {lb}: want {entry['polarity']}, {got}"
            )


def _score_kept_and_invented(
    run: StoryRun,
    events_gold: dict[str, dict[str, Any]],
    stances_gold: dict[str, dict[str, Any]],
    fig: Figures,
) -> None:
    event_of: dict[str, Any] = {}
    for event in run.briefing.events:
        for lb in _labels_of(run, event.members):
            event_of.setdefault(lb, event)
    stance_of: dict[str, Any] = {}
    for stance in run.briefing.stances:
        for lb in _labels_of(run, stance.members):
            stance_of.setdefault(lb, stance)
    for gold, found in ((events_gold, event_of), (stances_gold, stance_of)):
        for lb, entry in gold.items():
            if "drop" in entry:
                if lb in found:
                    fig.invented += 1
                    fig.mistakes.append(
                        f"{run.story.name}: {lb} reached the briefing ({entry['drop']})"
                    )
                continue
            if "wrong_polarity" not in entry:
                fig.kept_n += 1
                fig.kept_right += lb in found
                if lb not in found and ":s" in lb:
                    fig.mistakes.append(f"{run.story.name}: stance {lb} is not in the briefing")
    for lb, entry in events_gold.items():
        event = event_of.get(lb)
        if event is None:
            continue
        if "bad_quantity" in entry:
            bad = _value_key(entry["bad_quantity"])
            shown = {_value_key(q.value) for q in event.quantities}
            shown |= {_value_key(v.value) for c in event.conflicts for v in c.values}
            for u in getattr(event, "updates", []) or []:
                shown |= {_value_key(v.value) for v in u.values}
            if bad in shown:
                fig.invented += 1
                fig.mistakes.append(f"{run.story.name}: bad quantity {bad} of {lb} in the briefing")
        if "bad_actor" in entry:
            bad_name = _norm(entry["bad_actor"])
            names = {_norm(a.canonical) for a in (*event.actors, *event.targets)}
            if bad_name in names:
                fig.invented += 1
                fig.mistakes.append(
                    f"{run.story.name}: bad actor {entry['bad_actor']!r} of {lb} in the briefing"
                )
    for lb, entry in stances_gold.items():
        stance = stance_of.get(lb)
        wrong = entry.get("wrong_polarity")
        if stance is not None and wrong is not None and stance.polarity == wrong:
            fig.invented += 1
            fig.mistakes.append(f"{run.story.name}: wrong polarity of {lb} in the briefing")


def _score_corroboration(run: StoryRun, gold: dict[str, dict[str, Any]], fig: Figures) -> None:
    for name, cluster in run.story.gold.get("clusters", {}).items():
        if "corroboration" not in cluster:
            continue
        fig.corroboration_n += 1
        merged_id = run.cluster_ids.get(name)
        event = next((e for e in run.briefing.events if e.id == merged_id), None)
        got = event.corroboration if event is not None else 0
        fig.corroboration_right += got == cluster["corroboration"]
        if got != cluster["corroboration"]:
            fig.mistakes.append(
                f"{run.story.name}: corroboration of {name}: want {cluster['corroboration']}, {got}"
            )


_DIGITS = re.compile(r"(?<![\w.,])\d[\d,]*(?:\.\d+)?")
_WORDS = {
    w: str(n)
    for n, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_WORDS |= {f"twenty-{w}": str(20 + n) for w, n in [(w, int(v)) for w, v in _WORDS.items()][1:10]}


def _audit_numbers(text: str) -> set[str]:
    """Numbers a text writes, read simply and on purpose apart from briefer's own reader:
    digits, and the words one to twenty-nine."""
    found = {m.group(0).replace(",", "").rstrip(".") for m in _DIGITS.finditer(text)}
    for word in re.findall(r"[A-Za-z-]+", text):
        if word.lower() in _WORDS:
            found.add(_WORDS[word.lower()])
    return found


def _score_composition(run: StoryRun, fig: Figures) -> None:
    briefing = run.briefing
    model_sentences = {
        _sentence_key(s)
        for item in briefing.items
        if item.composer == "llm"
        for s in item.sentences
    }
    if run.reply_set == ADVERSARIAL:
        bad = run.story.gold.get("adversarial", {}).get("compose_unsupported", [])
        for sentence in bad:
            if _sentence_key(sentence) in model_sentences:
                fig.unsupported += 1
                fig.mistakes.append(f"{run.story.name}: unsupported sentence kept: {sentence[:70]}")
    else:
        reply = run.story.compose[CAREFUL] or {"items": []}
        for item in reply["items"]:
            for sentence in item["sentences"]:
                fig.compose_n += 1
                kept = _sentence_key(sentence["text"]) in model_sentences
                fig.compose_kept += kept
                if not kept:
                    fig.mistakes.append(
                        f"{run.story.name}: careful sentence not kept: {sentence['text'][:70]}"
                    )
    # An independent audit of every sentence: its numbers must be written in the quotes (or the
    # quantities' article words) of what it cites.
    records: dict[str, Any] = {e.id: e for e in briefing.events}
    records.update({s.id: s for s in briefing.stances})
    for item in briefing.items:
        for sentence, cited in zip(item.sentences, item.sentence_citations, strict=True):
            fig.audit_n += 1
            support = " ".join(
                [ev.quote for rid in cited if rid in records for ev in records[rid].evidence]
                + [q.text for rid in cited for q in getattr(records.get(rid), "quantities", [])]
                + [
                    v.text or ""
                    for rid in cited
                    for c in getattr(records.get(rid), "conflicts", [])
                    for v in c.values
                ]
            )
            missing = _audit_numbers(sentence) - _audit_numbers(support)
            if missing:
                fig.audit_flagged += 1
                fig.mistakes.append(
                    f"{run.story.name}: audit: {sorted(missing)} not in the quotes cited by "
                    f"{sentence[:70]!r}"
                )


def score(run: StoryRun) -> Figures:
    fig = Figures()
    events_gold = run.story.item_gold(run.reply_set, "e")
    stances_gold = run.story.item_gold(run.reply_set, "s")
    _score_merge(run, events_gold, fig)
    _score_conflicts(run, events_gold, fig)
    _score_dates(run, events_gold, fig)
    _score_stances(run, stances_gold, fig)
    _score_kept_and_invented(run, events_gold, stances_gold, fig)
    _score_corroboration(run, events_gold, fig)
    _score_composition(run, fig)
    fig.mistakes.extend(f"{run.story.name}: note: {n}" for n in run.briefing.notes)
    fig.mistakes = [f"[{run.reply_set}] {m}" for m in fig.mistakes]
    return fig


# --- the report -------------------------------------------------------------------------------


@dataclass
class Evaluation:
    per_story: dict[tuple[str, str], Figures]
    overall: dict[str, Figures]

    def misses(self) -> list[str]:
        """Every target a reply set misses, as one line each."""
        out = []
        for reply_set, fig in self.overall.items():
            for name, (target, higher) in TARGETS.items():
                value = fig.value(name)
                if value is None:
                    continue
                if (value < target) if higher else (value > target):
                    out.append(f"{reply_set}: {name} = {value:.3f}, target {target}")
        return out


def evaluate(stories: Sequence[Story]) -> Evaluation:
    async def all_runs() -> list[StoryRun]:
        runs = []
        for story in stories:
            runs.append(await run_story(story, CAREFUL))
            if story.has_adversarial:
                runs.append(await run_story(story, ADVERSARIAL))
        return runs

    per_story: dict[tuple[str, str], Figures] = {}
    overall = {CAREFUL: Figures(), ADVERSARIAL: Figures()}
    for run in asyncio.run(all_runs()):
        figures = score(run)
        per_story[(run.story.name, run.reply_set)] = figures
        overall[run.reply_set].add(figures)
    return Evaluation(per_story, overall)


COLUMNS: list[tuple[str, str, str]] = [
    ("merge_precision", "B³ P", "{:.2f}"),
    ("merge_recall", "B³ R", "{:.2f}"),
    ("merge_f1", "B³ F1", "{:.2f}"),
    ("conflict_precision", "confl. P", "{:.2f}"),
    ("conflict_recall", "confl. R", "{:.2f}"),
    ("update_vs_conflict", "upd/confl", "{:.2f}"),
    ("dates", "dates", "{:.2f}"),
    ("published", "published", "{:.2f}"),
    ("polarity", "polarity", "{:.2f}"),
    ("outlets", "outlets", "{:.2f}"),
    ("corroboration", "corrob.", "{:.2f}"),
    ("kept", "kept", "{:.2f}"),
    ("compose_kept", "sent. kept", "{:.2f}"),
    ("invented_in_briefing", "invented", "{:.0f}"),
    ("unsupported_sentences", "unsupp.", "{:.0f}"),
    ("audit_flagged", "audit", "{:.0f}"),
]


def _cell(fig: Figures, name: str, fmt: str) -> str:
    value = fig.value(name)
    return "–" if value is None else fmt.format(value)


def format_report(evaluation: Evaluation, *, mistakes: bool = False) -> str:
    lines = ["| story | set | " + " | ".join(c[1] for c in COLUMNS) + " |"]
    lines.append("|" + "---|" * (len(COLUMNS) + 2))
    for (name, reply_set), fig in evaluation.per_story.items():
        cells = " | ".join(_cell(fig, c[0], c[2]) for c in COLUMNS)
        lines.append(f"| {name} | {reply_set} | {cells} |")
    for reply_set, fig in evaluation.overall.items():
        cells = " | ".join(_cell(fig, c[0], c[2]) for c in COLUMNS)
        lines.append(f"| **all** | **{reply_set}** | {cells} |")
    lines.append("")
    lines.append("| figure | target | careful | adversarial |")
    lines.append("|---|---|---|---|")
    for name, (target, higher) in TARGETS.items():
        cells = []
        for reply_set in (CAREFUL, ADVERSARIAL):
            value = evaluation.overall[reply_set].value(name)
            if value is None:
                cells.append("–")
                continue
            ok = value >= target if higher else value <= target
            cells.append(f"{value:.3f} {'ok' if ok else 'MISSED'}")
        sign = "≥" if higher else "≤"
        lines.append(f"| {name} | {sign} {target:g} | {cells[0]} | {cells[1]} |")
    if mistakes:
        lines.append("")
        for fig in evaluation.overall.values():
            lines.extend(f"- {m}" for m in fig.mistakes)
    return "\n".join(lines)


def run_main(names: Sequence[str], *, mistakes: bool = False) -> int:
    """Run the one-day stories (or those named), then the multi-day ones (or those named), and
    print their tables; 1 when a target is missed, 2 when the files have problems."""
    from benchmarks.quality.days import load_day_stories
    from benchmarks.quality.days_score import run_days

    stories = load_stories(names)
    day_stories = load_day_stories(names=names)
    code = 0
    if stories or not day_stories:
        code = _run_one_day(stories, mistakes=mistakes)
        if code == 2:
            return code
    if day_stories:
        print()
        code = max(code, run_days(day_stories, mistakes=mistakes))
    return code


def _run_one_day(stories: Sequence[Story], *, mistakes: bool) -> int:
    broken = [(s.name, p) for s in stories for p in check_story(s)]
    if broken:
        for name, problem in broken:
            print(f"{name}: {problem}")
        print("the evaluation set has problems: python -m benchmarks.quality check")
        return 2
    evaluation = evaluate(stories)
    print(format_report(evaluation, mistakes=mistakes))
    misses = evaluation.misses()
    for miss in misses:
        print(f"target missed: {miss}")
    return 1 if misses else 0
