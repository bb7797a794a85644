"""The world's states and how news names them: names, demonyms, capitals, and what is ambiguous.

The table is ``briefer/data/countries.json``, read once. It holds every ISO 3166-1 entry and
Kosovo (``XKX``), each with a ``code`` (alpha-3), the ``name`` news gives it ("Democratic
Republic of the Congo", "South Korea", "United States"), other ``names`` and short forms ("DRC",
"U.S.", "Britain"), ``demonyms`` ("Kenyan") and ``capitals``: the cities and seats of government
that news names in place of the state ("Washington", "Pretoria" and "Cape Town", "Kremlin").
Beside the entries, three lists:

- ``ambiguous``: forms that are no evidence of one state. Either several states share them
  ("Congo", "Congolese", "Korea", "Korean", "Dominican", "Samoan", "Virgin Islands", "Saint
  Martin", "Jerusalem", "Kingston"), or news often uses them for something other than the state
  ("Georgia" the US state, "Jordan" the name, "Macedonia" the Greek region, "the Emirates" the
  airline, "The Hague" the courts, "Brussels" the EU, "Victoria", "Santiago", "Tripoli" in
  Lebanon...). Each maps to the codes it can name; ``other_meanings`` says what else it means.
- ``other_meanings``: what else a form means, also for forms that count all the same: the
  reasons behind the ``ambiguous`` list, for whoever edits it (the code does not read them).
- ``not_mentions``: phrases that hold a state's name without naming the state ("New Mexico",
  "Northern Ireland", "Latin American", "Gulf of Guinea", "Niger Delta", "Spanish-speaking").

How ambiguity is decided. A form is ambiguous when it names several states, or when it names
one state but news uses it for something else often enough that seeing it proves nothing: the
US state of Georgia fills American news, Jordan is a common given name and surname. A form
whose other meaning is rare in news counts: "Chad" is also a given name, "Niger" a river,
"Turkey" a bird, "Washington" a US state and a surname; telling them apart needs more than a
name table, so "Chad Smith said" is read as a mention of Chad (a known limit). "Guinea" alone
means Guinea: the other three states always carry their qualifier ("Equatorial Guinea",
"Guinea-Bissau", "Papua New Guinea"), and matching reads those whole, as it reads "New
Guinea" (the island) and "Gulf of Guinea" as no mention at all. Shared demonyms stay out of the
entries ("Congolese" is in no entry); a form of one state that is ambiguous stays in its entry
(Georgia's name is "Georgia") and is listed under ``ambiguous`` too. England, Scotland and
Wales are not ISO 3166-1 entries and are not in the table.

How names are compared (``codes_for``): as ``aliases.alias_key`` compares them, case, dots, a
leading "the" and runs of spaces aside, and also a possessive "'s", hyphens against spaces,
"&" against "and" and "St." against "Saint". Accents count: "Côte d'Ivoire" and "Cote
d'Ivoire" are both listed, while "Malé" is listed and "Male" is not. A demonym also stands in
the plural ("Kenyans"), unless it ends in s, sh, ch, x, z, "ese", "ic" or "man".

How texts are read (``find_mentions``): a scan over the words, linear in the text, that at
each word takes the longest listed form starting there, so "Papua New Guinea" is one mention
and "New Mexico" none. Words are whole ("Kenya2024" is no mention); possessives and hyphens do
not get in the way ("Kenya's", "Kenya-based", "U.S.-led"). Case matters: a form matches as the
table writes it, all in capitals (headlines), or with its lower-case words capitalised (title
case), never in lower case, so "US" is the country and "us" the pronoun, and "turkey" in a
recipe is no mention though "Turkey" opening a sentence is. A text set all in capitals is read
as written, so "TELL US" mentions the United States. Demonyms double as language names and
count ("in French"), except in "-speaking" and "-language" compounds. Texts are read as given:
letters with separate combining accents are joined before comparison, offsets stay those of the
text.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "Mention",
    "codes_for",
    "countries_mentioned",
    "country_name",
    "find_mentions",
    "is_ambiguous",
    "names_for",
]


@dataclass(frozen=True)
class Mention:
    """A form from the table found in a text: ``text[start:end] == mention.text``.

    ``codes`` are the states it can name, one unless ``ambiguous``. A possessive is left out
    of the span ("Kenya" in "Kenya's").
    """

    start: int
    end: int
    text: str
    codes: tuple[str, ...]
    ambiguous: bool


@dataclass(frozen=True)
class _Country:
    code: str
    name: str
    names: tuple[str, ...]
    demonyms: tuple[str, ...]
    capitals: tuple[str, ...]

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.name, *self.names, *self.demonyms, *self.capitals)


@dataclass
class _Form:
    """Everything listed under one key: the spellings as written, and what they mean."""

    spellings: set[tuple[str, ...]]
    codes: frozenset[str]
    ambiguous: bool
    blocked: bool
    ordered: tuple[str, ...] = ()

    def accepts(self, words: tuple[str, ...]) -> bool:
        return any(_same_case(words, spelling) for spelling in self.spellings)


@dataclass(frozen=True)
class _Table:
    countries: dict[str, _Country]
    forms: dict[tuple[str, ...], _Form]
    prefixes: frozenset[tuple[str, ...]]
    firsts: frozenset[str]
    longest: int


# A word: letters and digits (with combining accents), apostrophes inside ("d'Ivoire",
# "Kenya's"); or an abbreviation with dots ("U.S.", "D.R.C."); or "&".
_LETTERS = r"[\w\u0300-\u036f]+(?:['’ʼ][\w\u0300-\u036f]+)*"
_ABBREVIATION = r"(?:[^\W\d_]\.){2,}(?:['’][sS](?!\w))?"
_WORD = re.compile(rf"{_ABBREVIATION}|{_LETTERS}|&")
# Where a form may start: a whole word not led by an ASCII lower-case letter (the scan then
# checks for a capital), so lower-case prose is skipped inside the pattern engine.
_START = re.compile(rf"(?<![\w\u0300-\u036f])(?:{_ABBREVIATION}|(?![a-z]){_LETTERS})")
# What may stand between two words of one form: spaces, one dot, one hyphen or dash, a comma
# or a parenthesis ("St. Lucia", "Guinea-Bissau", "Washington, D.C.", "Cocos (Keeling)").
_GAP = re.compile(r"\.?\s*(?:[-‐‑–—(),]\s*)?")
_SAINT = {"st": "saint", "ste": "sainte"}
_NO_PLURAL = ("s", "sh", "ch", "x", "z", "ese", "ic", "man")


def _word(raw: str) -> tuple[str, int]:
    """A word as compared, and how much of ``raw`` it covers (a possessive is left out)."""
    word = raw.replace("’", "'").replace("ʼ", "'")
    if not word.isascii():
        word = unicodedata.normalize("NFC", word)
    covered = len(raw)
    if len(word) > 2 and word[-2:] in ("'s", "'S"):
        word, covered = word[:-2], covered - 2
    if word == "&":
        return "and", covered
    if "." in word:
        word = word.replace(".", "")
    saint = _SAINT.get(word.casefold())
    if saint is None:
        return word, covered
    if word.isupper():
        return saint.upper(), covered
    return (saint.capitalize() if word[0].isupper() else saint), covered


def _words(name: str) -> list[str]:
    words = [_word(match.group())[0] for match in _WORD.finditer(name)]
    if words and words[0].casefold() == "the":
        del words[0]
    return words


def _key(words: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(word.casefold() for word in words)


def _same_case(words: tuple[str, ...], spelling: tuple[str, ...]) -> bool:
    """As the table writes it, in capitals, or with its lower-case words capitalised."""
    for word, listed in zip(words, spelling, strict=True):
        if word == listed or word == listed.upper():
            continue
        if listed[:1].islower() and word == listed[:1].upper() + listed[1:]:
            continue
        return False
    return True


def _plural(demonym: tuple[str, ...]) -> tuple[str, ...] | None:
    last = demonym[-1]
    if last.casefold().endswith(_NO_PLURAL):
        return None
    return (*demonym[:-1], last + "s")


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"countries.json: expected a list of strings, got {value!r}")
    return tuple(value)


def _add(
    forms: dict[tuple[str, ...], _Form],
    words: tuple[str, ...],
    codes: frozenset[str],
    *,
    ambiguous: bool = False,
    blocked: bool = False,
) -> None:
    key = _key(words)
    form = forms.get(key)
    if form is None:
        forms[key] = _Form({words}, codes, ambiguous, blocked)
        return
    form.spellings.add(words)
    if not form.codes >= codes:
        # A form listed under two states is ambiguous, said so or not.
        form.codes |= codes
        form.ambiguous = True
    form.ambiguous = form.ambiguous or ambiguous
    form.blocked = form.blocked or blocked


@functools.cache
def _table() -> _Table:
    path = importlib.resources.files("briefer").joinpath("data/countries.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    countries: dict[str, _Country] = {}
    for entry in raw["countries"]:
        country = _Country(
            code=str(entry["code"]),
            name=str(entry["name"]),
            names=_strings(entry["names"]),
            demonyms=_strings(entry["demonyms"]),
            capitals=_strings(entry["capitals"]),
        )
        countries[country.code] = country
    ambiguous = {
        tuple(_words(name)): frozenset(_strings(codes)) for name, codes in raw["ambiguous"].items()
    }
    unclear = {_key(words) for words in ambiguous}

    forms: dict[tuple[str, ...], _Form] = {}
    for country in countries.values():
        code = frozenset({country.code})
        for name in country.forms:
            words = tuple(_words(name))
            _add(forms, words, code, ambiguous=_key(words) in unclear)
    for country in countries.values():
        for demonym in country.demonyms:
            words = tuple(_words(demonym))
            plural = _plural(words)
            if plural is not None and _key(plural) not in forms:
                _add(forms, plural, frozenset({country.code}), ambiguous=_key(words) in unclear)
    for words, codes in ambiguous.items():
        # What the ambiguous list says a form can mean is the whole of it.
        _add(forms, words, codes, ambiguous=True)
        forms[_key(words)].codes = codes
    for phrase in _strings(raw["not_mentions"]):
        _add(forms, tuple(_words(phrase)), frozenset(), blocked=True)

    for form in forms.values():
        form.ordered = tuple(sorted(form.codes))
    prefixes = frozenset(key[:end] for key in forms for end in range(1, len(key) + 1))
    return _Table(
        countries=countries,
        forms=forms,
        prefixes=prefixes,
        firsts=frozenset(key[0] for key in forms),
        longest=max(len(key) for key in forms),
    )


def _lookup(name: str) -> _Form | None:
    return _table().forms.get(_key(_words(name)))


def country_name(code: str) -> str | None:
    """The name news gives the state ``code`` names ("COD": "Democratic Republic of the Congo")."""
    country = _table().countries.get(code.strip().upper())
    return country.name if country else None


def names_for(code: str) -> tuple[str, ...]:
    """The state's name, other names, demonyms and capitals, in that order; () if unknown.

    Forms several states share are in no state's list ("Congo", "Kingston"), unless one of them
    bears it as its name ("Saint Martin"): ``codes_for`` tells what such a form can mean.
    """
    country = _table().countries.get(code.strip().upper())
    return country.forms if country else ()


def codes_for(name: str) -> tuple[str, ...]:
    """The codes a name, short form, demonym or capital can mean, sorted.

    One for "Kenya", "Kenyans", "Kenya's" or "Nairobi"; two for "Congo"; one for "Georgia",
    which is also ambiguous (``is_ambiguous``); none for "Springfield" or "New Mexico". Case
    does not matter here ("us" is the United States): the name is taken to be a name.
    """
    form = _lookup(name)
    return form.ordered if form else ()


def is_ambiguous(name: str) -> bool:
    """Whether ``name`` is listed but no evidence of one state ("Congo", "Georgia")."""
    form = _lookup(name)
    return form is not None and form.ambiguous


# The same article is read for the states it names once per record it gives: keep the latest.
@functools.lru_cache(maxsize=512)
def find_mentions(text: str) -> tuple[Mention, ...]:
    """Every listed form in ``text``, in order, ambiguous ones included, longest first.

    Phrases listed as not naming a state ("New Mexico") are read and left out.
    """
    table = _table()
    seen: dict[str, tuple[str, int, str]] = {}

    def read(raw: str) -> tuple[str, int, str]:
        known = seen.get(raw)
        if known is None:
            word, covered = _word(raw)
            known = seen[raw] = (word, covered, word.casefold())
        return known

    verdicts: dict[tuple[str, ...], bool] = {}

    def accepts(form: _Form, words: tuple[str, ...]) -> bool:
        verdict = verdicts.get(words)
        if verdict is None:
            verdict = verdicts[words] = form.accepts(words)
        return verdict

    found: list[Mention] = []
    resume = 0
    for first in _START.finditer(text):
        start = first.start()
        if start < resume or not first.group()[0].isupper():
            continue
        word, covered, folded = read(first.group())
        if folded not in table.firsts:
            continue
        words: tuple[str, ...] = (word,)
        key: tuple[str, ...] = (folded,)
        best: tuple[int, int, _Form] | None = None
        here = first
        while True:
            form = table.forms.get(key)
            if form is not None and accepts(form, words):
                best = (here.start() + covered, here.end(), form)
            if len(key) == table.longest:
                break
            gap = _GAP.match(text, here.end())
            nxt = _WORD.match(text, gap.end()) if gap else None
            if nxt is None:
                break
            word, covered, folded = read(nxt.group())
            key = (*key, folded)
            if key not in table.prefixes:
                break
            words = (*words, word)
            here = nxt
        if best is None:
            continue
        end, resume, form = best
        if not form.blocked:
            found.append(Mention(start, end, text[start:end], form.ordered, form.ambiguous))
    return tuple(found)


def countries_mentioned(text: str) -> frozenset[str]:
    """The codes of the states ``text`` names unambiguously."""
    return frozenset(
        code for mention in find_mentions(text) if not mention.ambiguous for code in mention.codes
    )
