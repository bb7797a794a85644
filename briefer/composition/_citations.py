"""Checks a composed item against the records it cites: citations exist, and every number, name
and date a sentence writes is written in what it cites.

What a sentence cites is its **evidence**: the verbatim quotes of the records it cites, the
article words those records carry (each quantity's words, the conflicting and updated values'
words, the date words, the place as the article writes it), the names of the records' actors as
written and as canonicalised (a state also by its other names: "Washington" for the United
States), and the label of each cited record's sources (its outlet, else its title: the
citation shows it). Nothing computed in code counts: the day, month or year of an event's
resolved date is not evidence for "12 people" nor for "on 12 January".

* **Numbers** are read by ``briefer.text.numbers`` (digits, words, scales, percentages, money). A
  number is written in the evidence when the evidence states the same value.
* **Names** are capitalised words and acronyms ("Rotterdam", "EU", "U.N."), leaving out the
  sentence's first word unless it names a state, and month and weekday names (dates, below). A
  name is written in the evidence in one of its forms ("Korean" for "Korea") or, for a state, by
  any of its names.
* **Dates**: month and weekday names and "today", "yesterday", "tomorrow" must be written in the
  evidence; their numbers (the day, the year) are numbers like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from briefer.models import ComposeItem, MergedEvent, MergedStance, Source
from briefer.text.countries import codes_for, countries_mentioned
from briefer.text.dates import MONTH_FORMS, MONTH_NAMES, RELATIVE_DAYS, WEEKDAY_NAMES
from briefer.text.numbers import numbers_in
from briefer.text.words import same_word, word_set

__all__ = [
    "check_item",
    "evidence_text",
    "format_number",
    "sentence_failures",
    "source_label",
    "supported_numbers",
    "unsupported_dates",
    "unsupported_names",
    "unsupported_numbers",
]

MergedRecord = MergedEvent | MergedStance

# Every form of a month ("jan", "sept") read as the month's name.
_MONTH_FORMS = {form: MONTH_NAMES[number - 1] for form, number in MONTH_FORMS.items()}
_DATE_WORD = re.compile(
    r"\b(?:"
    + "|".join(sorted({*_MONTH_FORMS, *WEEKDAY_NAMES, *RELATIVE_DAYS}, key=len, reverse=True))
    + r")\b\.?",
    re.IGNORECASE,
)
# A name: a capitalised word, or an acronym with or without dots ("U.N.", "EU").
_NAME = re.compile(r"(?:[A-Z]\.){2,}|\b[A-Z][\w’'-]*")
_SENTENCE_START = re.compile(r"^|[.!?:;]\s+|[\"“‘(]\s*")
# Words a composed sentence opens with that name no one: checked when not first.
_OPENERS = frozenset(
    """about across after again against all also although amid among an and another as at
    authorities because before both but by despite during each earlier either elsewhere even
    few figures five following for four from further government groups he her here his
    however if in including instead it its late later many meanwhile more most much nearly
    neither no none not now officials on once one only or other others over overnight police
    protesters reported reports rescue residents separately several she since so some such
    than that the their then there these they this those though three thousands throughout
    to two under until up when where whether while with within without workers yet
    reported actors targets figures updated quote quoted""".split()  # noqa: SIM905
)
# Capitalised words that start clauses or titles rather than name anyone.
_COMMON = frozenset(
    """i a an the this that these those it its in on at by for from to of and but or as with
    after before while when where if both all some no not one two also according outlets
    reports reported officials he she they we his her their mr mrs ms dr""".split()  # noqa: SIM905
)


def _key(value: float) -> float:
    return round(value, 6)


def format_number(value: float) -> str:
    """A value as a briefing writes it: ``5``, ``3.5``, ``1,500,000``."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.6f}".rstrip("0").rstrip(".")


def source_label(source: Source) -> str:
    """How a briefing names a source: its outlet, else its title, else its id."""
    return source.outlet or source.title or source.id


def _article_words(record: MergedRecord) -> Iterable[str]:
    """The words of the article a record carries: quotes and the words of its values."""
    yield from (e.quote for e in record.evidence)
    if isinstance(record, MergedEvent):
        for q in record.quantities:
            yield q.text
        for conflict in record.conflicts:
            yield from (v.text for v in conflict.values if v.text)
        for update in record.updates:
            yield from (v.text for v in update.values if v.text)
        if record.date_text:
            yield record.date_text
        if record.location:
            yield record.location


def _source_words(record: MergedRecord, sources: Mapping[str, Source]) -> Iterable[str]:
    """How the citation names each source (its outlet, else its title): a sentence may name it
    too. A title beside an outlet is the article's headline, not this record's evidence."""
    for sid in record.source_ids:
        if sid in sources:
            yield source_label(sources[sid])


def _actor_names(record: MergedRecord) -> Iterable[str]:
    actors = (
        [*record.actors, *record.targets] if isinstance(record, MergedEvent) else [record.holder]
    )
    for actor in actors:
        yield actor.name
        yield actor.canonical


def evidence_text(records: Iterable[MergedRecord], sources: Mapping[str, Source]) -> str:
    """Everything the given records let a sentence write, as one text (see the module doc)."""
    parts: list[str] = []
    for record in records:
        parts.extend(_article_words(record))
        parts.extend(_source_words(record, sources))
    return "\n".join(parts)


def supported_numbers(
    records: Iterable[MergedRecord], sources: Mapping[str, Source] | None = None
) -> set[float]:
    """Every value written in the records' evidence, and (for "5 million") the value before
    its scale."""
    values: set[float] = set()
    records = list(records)
    by_id = sources or {}
    texts = [t for r in records for t in (*_article_words(r), *_source_words(r, by_id))]
    for text in texts:
        for written, value in numbers_in(text):
            values.add(_key(value))
            first = numbers_in(written.split()[0]) if " " in written else []
            values.update(_key(v) for _, v in first)
    for record in records:
        if isinstance(record, MergedEvent):
            # Values whose words were checked against the article, as they were read there.
            values.update(_key(q.value) for q in record.quantities)
            for conflict in record.conflicts:
                values.update(
                    _key(v.value) for v in conflict.values if isinstance(v.value, float) and v.text
                )
            for update in record.updates:
                values.update(_key(v.value) for v in update.values if v.text)
    return values


# "one of the men", "the revised one": a pronoun picks something out; it states no count the
# evidence must give.
_PARTITIVE_ONE = re.compile(r"\b[Oo]ne(?=\s+of\b)")
_PRONOUN_ONE = re.compile(
    r"\b(?P<det>the|a|an|this|that|each|every|any|another|which)(?P<adj>\s+[a-z]+)?\s+one\b"
)


def unsupported_numbers(text: str, supported: set[float]) -> list[str]:
    """The numbers written in ``text`` that are not in ``supported``, as written."""
    counted = _PRONOUN_ONE.sub(r"\g<det>\g<adj>", _PARTITIVE_ONE.sub("", text))
    return [written for written, value in numbers_in(counted) if _key(value) not in supported]


def unsupported_dates(text: str, evidence: str) -> list[str]:
    """Month and weekday names and "today"/"yesterday"/"tomorrow" in ``text`` that the evidence
    does not write (in any of their forms: "Jan." is "January")."""
    written = {
        _MONTH_FORMS.get(w.lower().rstrip("."), w.lower().rstrip("."))
        for w in _DATE_WORD.findall(evidence)
    }
    missing = []
    for match in _DATE_WORD.finditer(text):
        word = match.group(0).rstrip(".")
        if _MONTH_FORMS.get(word.lower(), word.lower()) not in written:
            missing.append(word)
    return missing


def _names(text: str, *, title: bool, common: frozenset[str]) -> list[tuple[int, str]]:
    """Capitalised words of ``text`` that may name someone. A sentence's first word, and any
    word of a title-case headline, is taken for an ordinary word when it opens sentences
    ("Police said") or the articles write it in lower case (``common``)."""
    starts = {m.end() for m in _SENTENCE_START.finditer(text)}
    found = []
    for match in _NAME.finditer(text):
        word = match.group(0).rstrip("'’-")
        bare = word.replace(".", "").lower().removesuffix("'s").removesuffix("’s")
        if not bare or _DATE_WORD.fullmatch(word) or bare in _MONTH_FORMS or bare in WEEKDAY_NAMES:
            continue
        if bare in _COMMON:
            continue
        if (title or match.start() in starts) and (bare in _OPENERS or bare in common):
            continue
        found.append((match.start(), word))
    return found


def unsupported_names(
    text: str,
    evidence: str,
    *,
    actor_names: Sequence[str] = (),
    countries: Iterable[str] = (),
    common_words: frozenset[str] = frozenset(),
    title: bool = False,
) -> list[str]:
    """Names in ``text`` written neither in ``evidence`` nor among ``actor_names``; a state's
    name also counts as written when the evidence or the actors name that state otherwise."""
    support = "\n".join([evidence, *actor_names])
    words = word_set(support)
    acronyms = _acronyms(support)
    states = set(countries) | countries_mentioned(evidence + "\n" + "\n".join(actor_names))
    digits_names = frozenset(re.findall(r"\b[A-Z][A-Za-z]*\d[\w-]*", support))
    # A state named in several words ("North Korea") is one name, checked as the state.
    of_states = {
        m.start() + offset
        for m in _CAPITALISED_RUN.finditer(text)
        if any(code in states for code in codes_for(m.group(0)))
        for offset in range(len(m.group(0)))
    }
    missing: list[str] = []
    for at, whole in _names(text, title=title, common=common_words):
        if at in of_states:
            continue
        # "UK-registered", "Kenya-based": the capitalised parts are the names.
        parts = [p for p in re.split(r"[-–]", whole) if p[:1].isupper()] or [whole]
        missing.extend(
            p for p in parts if not _name_supported(p, words, acronyms, states, digits_names)
        )
    return missing


def _name_supported(
    name: str,
    words: frozenset[str],
    acronyms: set[str],
    states: set[str],
    digits_names: frozenset[str] = frozenset(),
) -> bool:
    """Written in the evidence: an acronym it writes or spells out, a state it names in any of
    the state's names, or the word in one of its forms."""
    bare = name.replace(".", "")
    if bare.isupper() and len(bare) >= 2 and bare in acronyms:
        return True
    if any(c.isdigit() for c in bare):
        return bare in digits_names  # "A7", "G20": as written
    codes = codes_for(name)
    if codes and any(code in states for code in codes):
        return True
    return same_word(bare.lower().removesuffix("'s").removesuffix("’s"), words)


_CAPITALISED_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:(?:of|the|and|for|on|in)\s+)*[A-Z][\w’'-]*)+")


def _acronyms(text: str) -> set[str]:
    """Acronyms a text writes ("U.N." is "UN"; case kept, so "US" is not "us") or spells out:
    "United Nations Security Council" gives UN, UNSC, NSC, SC."""
    found = {w.replace(".", "") for w in re.findall(r"(?:[A-Z]\.){2,}|\b[A-Z]{2,}\b", text)}
    for run in _CAPITALISED_RUN.finditer(text):
        initials = "".join(w[0] for w in run.group(0).split() if w[:1].isupper())
        found.update(
            initials[i:j] for i in range(len(initials)) for j in range(i + 2, len(initials) + 1)
        )
    return found


def _record_countries(records: Iterable[MergedRecord]) -> set[str]:
    out: set[str] = set()
    for record in records:
        actors = (
            [*record.actors, *record.targets]
            if isinstance(record, MergedEvent)
            else [record.holder]
        )
        out.update(a.country for a in actors if a.country)
    return out


def check_item(
    item: ComposeItem,
    records: Mapping[str, MergedRecord],
    *,
    sources: Sequence[Source] = (),
    common_words: frozenset[str] = frozenset(),
) -> list[str]:
    """What is wrong with ``item``: uncited sentences, unknown ids, and numbers, names or
    dates that the cited evidence does not write. ``common_words`` are the words the articles
    write in lower case (``briefer.text.words.ordinary_words``): capitalised at the start of a
    sentence or in a headline, they name no one."""
    by_id = {s.id: s for s in sources}
    failures: list[str] = []
    if not item.sentences:
        failures.append("the item has no sentences")
    cited_anywhere: list[MergedRecord] = []
    for n, sentence in enumerate(item.sentences, start=1):
        known = []
        for rid in sentence.citations:
            if rid in records:
                known.append(records[rid])
            else:
                failures.append(f"sentence {n} cites unknown id {rid}")
        if not sentence.text.strip():
            failures.append(f"sentence {n} is empty")
        if not sentence.citations:
            failures.append(f"sentence {n} cites no record")
        cited_anywhere.extend(known)
        failures.extend(
            sentence_failures(
                sentence.text, known, by_id, where=f"sentence {n}", common_words=common_words
            )
        )
    failures.extend(
        sentence_failures(
            item.headline,
            cited_anywhere,
            by_id,
            where="the headline",
            common_words=common_words,
            title=True,
        )
    )
    return failures


def sentence_failures(
    text: str,
    cited: Sequence[MergedRecord],
    sources: Mapping[str, Source],
    *,
    where: str = "the sentence",
    common_words: frozenset[str] = frozenset(),
    title: bool = False,
) -> list[str]:
    """Each number, name and date in ``text`` that the evidence of ``cited`` does not write."""
    evidence = evidence_text(cited, sources)
    names = [n for r in cited for n in _actor_names(r)]
    failures = [
        f"number {written} in {where} is not written in the evidence it cites"
        for written in unsupported_numbers(text, supported_numbers(cited, sources))
    ]
    failures += [
        f"name {name} in {where} is not written in the evidence it cites"
        for name in unsupported_names(
            text,
            evidence,
            actor_names=names,
            countries=_record_countries(cited),
            common_words=common_words,
            title=title,
        )
    ]
    failures += [
        f"date {word} in {where} is not written in the evidence it cites"
        for word in unsupported_dates(text, evidence)
    ]
    return failures
