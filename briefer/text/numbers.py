"""Numbers in news text: what a phrase states, as a value and as the interval it stands for.

One reader for every module that checks or compares numbers. :func:`find_numbers` returns a
:class:`Number` for every number stated, in order: its words as written (qualifier, currency and
unit included: ``more than $1.2 billion``), its value with the scale applied, the interval the
words allow, its unit, and whether it is an ordinal.

The text is read once, left to right: one regular expression picks out digit groups and the
words that can be or surround a number (other words are skipped, and since every reading looks
at the text between two tokens, a skipped word still keeps them apart); each number is then
read from its token and a few neighbours. The work is linear in the length of the text.

What is read
------------
* **Digits**: ``12``, ``3.5``, ``1,000``, ``12,500.5``, digit groups split by thin spaces
  (``1 000 000`` with U+2009, U+202F or U+2008), with a glued suffix: ``12th`` (ordinal),
  ``15%``, ``50m``/``5mn`` (million), ``4.5bn``, ``1.5tn``, ``10k``. Suffixes are case-sensitive
  (``5M`` and ``12TH`` are not read). Digits glued to letters are names, not counts: ``G7``,
  ``5G``, ``MH17`` and ``10am`` give nothing; a hyphen is not glue, so ``F-35`` and ``COVID-19``
  give 35 and 19, as the citation check always read them. A digit group right after a ``.``
  is not read (``.5``; the ``1`` of ``3.5.1``). An ordinary space does not group digits
  (``May 12 300 marched`` is 12 and 300).
* **Scale words** after digits, across spaces or a hyphen (not across punctuation):
  ``2 million``, ``1.2-billion``, ``3 trillion``, ``5 bn``/``mn``/``mln``/``bln``/``tn``,
  ``2 dozen``, ``5 hundred``, ``2 and a half million``. ``scale`` keeps a multiplier of a
  thousand or more (``value / scale`` is the number as its digits write it).
* **Words**: ``zero`` to ``nineteen``, the tens, ``hundred``, ``thousand``, ``million``,
  ``billion``, ``trillion``, ``dozen`` (:data:`NUMBER_WORDS`), in compounds joined by spaces or
  hyphens (``twenty-five``, ``two hundred and five``, ``three million``, ``a dozen``); ``and``
  joins only after ``hundred`` or a scale (``five and six`` is two numbers), and two units or two
  tens in a row are two numbers (``three four-year terms``).
* **Ordinals** (``ordinal=True``): digits with ``st``/``nd``/``rd``/``th``, the words of
  :data:`ORDINAL_WORDS` (``third`` to ``nineteenth``, ``twentieth`` to ``ninetieth``,
  ``hundredth``, ``thousandth``, ``millionth``, ``billionth``) and compounds ending in one
  (``twenty-first``, ``one hundred and fifth``). ``first`` and ``second`` alone are left out:
  they are as often adverbs or units of time as ranks.
* **Fractions**, when unambiguous: ``two-thirds``, ``three quarters`` (a count before a plural
  denominator), ``one-fifth``/``one fifth``/``one half``, ``a third of``/``a quarter of`` (``a``
  with ``of``; without it ``a fifth term`` is the ordinal 5), ``half a million``,
  ``half a dozen``, ``a half-million``, ``a quarter million``, ``two and a half``,
  ``one and a half million``. ``half`` alone is not a number, nor is ``a quarter century``.
* **Vague counts** (``value`` is the interval's low end):

  ======================================  ==========================================
  ``tens of`` (only before ``of``)        [20, 100]
  ``dozens``                              [24, 144]
  ``hundreds``                            [200, 1,000]
  ``thousands``                           [2,000, 100,000]
  ``millions`` / ``billions`` / ...       [2 S, 100 S]
  ``P of Q`` (``tens of thousands``)      P's interval times Q: [20,000, 100,000];
                                          ``hundreds of thousands``: [200,000, 1,000,000]
  ``several``/``a few`` + a scale word    [2 v, 10 v]: ``several hundred`` [200, 1,000]
  ======================================  ==========================================

  ``several``, ``a few``, ``scores``, ``a couple`` alone are not numbers.
* **Qualifiers** before a number set its interval (``value`` stays the number written):

  ==========================================================  ===================
  at least, more than, over, above, upwards of, in excess of,  [v, inf]
  no fewer/less than, well over, ``30+``, ``30-plus``
  up to, at most, fewer than, less than, under, below,         [0, v]
  no more than, not more than, as many as, as much as
  nearly, almost, just under, just below, just shy of          [0.9 v, v]
  just over, just above, slightly more than, a little over,    [v, 1.1 v]
  ``30-odd``
  about, around, roughly, approximately, some, an estimated,   [0.9 v, 1.1 v]
  estimated, close to, circa, ``~``, ``≈``, ``30 or so``
  ==========================================================  ===================

  A tenth is taken as ``v / 10`` (so "about 3,000" is exactly [2,700, 3,300]). A qualifier
  must stand right before the number (a currency sign may come between; "about the 30 ships"
  is exact). Ordinals take no qualifier. A qualified range widens at its ends ("about 30 to
  40" is [27, 44]); for negative numbers the bounds keep their order and "at most" is open
  below. ``form`` names the wording: ``"exact"``, ``"about"``, ``"nearly"``, ``"just over"``,
  ``"at least"``, ``"at most"``, ``"range"`` or ``"vague"``.
* **Ranges** (``form="range"``, ``value`` = low): ``30 to 40``, ``30-40``, ``30–40``,
  ``between 30 and 40``, ``from 30 to 40``, ``$5m-$6m`` (a dash joins digits only: ``one-five``
  is two numbers, and so are ``5 or 6``, ``five and six`` without ``between``, and ``30 percent
  to 40 percent``, whose ends each carry a unit). A scale, a percent sign or a currency
  written once serves both ends: ``5 to 6 million`` is [5,000,000, 6,000,000], ``10-15%`` is
  percent, ``$10-15 million`` is USD. The low end must be below the high end, so ``from 40 to
  30``, ``voted 7 to 2`` and ``2024-25`` are two numbers (``between`` takes its two ends in
  either order). Hyphen chains (``2024-01-15``, ``1-800-555-0199``) and ends with a leading
  zero (``555-0143``) are separate numbers, but ``555-1234`` reads as a range: without more
  context it cannot be told from one.
* **Units**: ``unit="percent"`` for ``15%``, ``15 %``, ``15 percent``, ``15 per cent``,
  ``15 pct``, ``fifteen percent``; a currency code for money: before the number ``$`` (USD),
  ``US$``, ``A$`` (AUD), ``C$``/``CA$`` (CAD), ``HK$``, ``NZ$``, ``S$`` (SGD), ``R$`` (BRL),
  ``€`` (EUR), ``£`` (GBP), ``¥`` (JPY), ``₹`` (INR), ``₩`` (KRW), ``₽`` (RUB), ``₺`` (TRY),
  ``₴`` (UAH), ``₪`` (ILS), ``₦`` (NGN), or an ISO code (``USD 4.5 million``); after it an ISO
  code or ``dollars``/``US dollars`` (USD), ``euros``, ``yen``, ``yuan``/``renminbi``,
  ``rupees``, ``roubles``/``rubles``, ``sterling``, and ``pounds`` only after a scale word or
  before ``sterling`` (``lost 20 pounds`` is a weight). Anything else: ``None``.
* **Signs**: ``-5``, ``−5`` (U+2212) and ``+5`` when the sign stands right before the digits
  after a space, a bracket or the start of the text (a hyphen after a letter or digit is glue:
  ``F-35``, ``10-15``). Years (``in 2024``), days (``March 4``), times (``10:30`` is 10 and 30),
  ``No. 10`` and phone numbers (each group) are numbers like others.
* ``one`` is the number 1 also as a pronoun (``one of the men``), as it always was for the
  citation check: a sentence that says "one" states a count its evidence must give. ``no one``
  and ``one another`` are not numbers.

:func:`numbers_in` gives what the citation check compares: each numeral as written and its
value, without qualifiers, signs, units or a leading "a" (``About 1,000`` gives ``("1,000",
1000)``, ``a dozen`` ``("dozen", 12)``, ``-5%`` ``("5%", 5)``, ``a quarter of`` ``("quarter",
0.25)``, ``half a million`` ``("half a million", 500000)``), the two ends of a range as written
(``5 to 6 million`` gives ``("5", 5)`` and ``("6 million", 6000000)``), digits and their scale
word joined by one space (``5-million`` gives ``("5 million", 5000000)``), and nothing for a
vague count (``dozens``). :func:`value_agrees` checks a model's value against the words it
copied; :func:`compatible` asks whether two numbers can both be true.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate
from types import MappingProxyType
from typing import Literal, NamedTuple, TypeAlias

__all__ = [
    "NUMBER_WORDS",
    "ORDINAL_WORDS",
    "VAGUE_NUMBER_WORDS",
    "Form",
    "Number",
    "compatible",
    "find_numbers",
    "numbers_in",
    "value_agrees",
]

Form = Literal["exact", "about", "nearly", "just over", "at least", "at most", "range", "vague"]
"""How a number is worded: as such, after a qualifier, as a range, or as a vague count."""

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {
    "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
    "trillion": 1_000_000_000_000,
}  # fmt: skip

NUMBER_WORDS: Mapping[str, int] = MappingProxyType(
    {**_UNITS, **_TENS, "hundred": 100, **_SCALES, "dozen": 12}
)
"""The cardinal number words and their values: units, teens, tens, scales and ``dozen``."""

_UNIT_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19,
}  # fmt: skip
_TENS_ORDINALS = {
    "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60,
    "seventieth": 70, "eightieth": 80, "ninetieth": 90,
}  # fmt: skip
_SCALE_ORDINALS = {
    "thousandth": 1_000, "millionth": 1_000_000, "billionth": 1_000_000_000,
}  # fmt: skip

ORDINAL_WORDS: Mapping[str, int] = MappingProxyType(
    {
        **{w: v for w, v in _UNIT_ORDINALS.items() if v > 2},
        **_TENS_ORDINALS,
        "hundredth": 100,
        **_SCALE_ORDINALS,
    }
)
"""Ordinal words read on their own (``first`` and ``second`` only end a compound)."""

VAGUE_NUMBER_WORDS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "tens": (20.0, 100.0),
        "dozens": (24.0, 144.0),
        "hundreds": (200.0, 1_000.0),
        "thousands": (2e3, 1e5),
        "millions": (2e6, 1e8),
        "billions": (2e9, 1e11),
        "trillions": (2e12, 1e14),
    }
)
"""Plural number words and the interval each stands for (``tens`` only in ``tens of``)."""

# The unit a plural multiplies in "P of Q" ("hundreds of thousands").
_PLURAL_SCALES = {f"{word}s": float(value) for word, value in _SCALES.items()}
# Denominators: singular ones make a fraction after "one"/"a", plural ones after a count.
_DENOMINATORS = {
    "half": 2,
    "quarter": 4,
    **{word: value for word, value in _UNIT_ORDINALS.items() if 3 <= value <= 10},
}
_PLURAL_DENOMINATORS = {
    f"{word}s": value for word, value in _DENOMINATORS.items() if word != "half"
}
# Scale words that may follow digits ("2 million", "5 bn").
_DIGIT_SCALES = {
    **{word: float(NUMBER_WORDS[word]) for word in ("hundred", *_SCALES, "dozen")},
    "mn": 1e6, "mln": 1e6, "bn": 1e9, "bln": 1e9, "tn": 1e12,
}  # fmt: skip
_SUFFIX_SCALES = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "tn": 1e12}

# Words that can begin a number (a run, an ordinal, a fraction or a vague count).
_START = frozenset({*NUMBER_WORDS, *ORDINAL_WORDS, *VAGUE_NUMBER_WORDS, "half", "quarter"})

_QUALIFIERS: dict[tuple[str, ...], Form] = {
    **{
        tuple(p.split()): "at least"
        for p in (
            "at least", "more than", "over", "above", "upwards of", "in excess of",
            "no fewer than", "no less than", "well over", "well above",
        )
    },
    **{
        tuple(p.split()): "at most"
        for p in (
            "up to", "at most", "fewer than", "less than", "under", "below", "no more than",
            "not more than", "as many as", "as much as",
        )
    },
    **{
        tuple(p.split()): "nearly"
        for p in ("nearly", "almost", "just under", "just below", "just shy of")
    },
    **{
        tuple(p.split()): "just over"
        for p in ("just over", "just above", "slightly more than", "a little over")
    },
    **{
        tuple(p.split()): "about"
        for p in (
            "about", "around", "roughly", "approximately", "some", "an estimated", "estimated",
            "close to", "circa",
        )
    },
}  # fmt: skip

# The words that may end what stands before a number ("more than", "between", "a few").
_LEAD_WORDS = frozenset({p[-1] for p in _QUALIFIERS} | {"between", "from", "several", "few"})

_CURRENCY_SYMBOLS = {
    "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB",
    "₺": "TRY", "₴": "UAH", "₪": "ILS", "₦": "NGN",
}  # fmt: skip
# Letters written before "$", case as written: "US$", "HK$".
_DOLLAR_PREFIXES = {
    "US": "USD", "A": "AUD", "AU": "AUD", "C": "CAD", "CA": "CAD", "HK": "HKD",
    "NZ": "NZD", "S": "SGD", "R": "BRL",
}  # fmt: skip
_CURRENCY_CODES = frozenset(
    (
        "USD", "EUR", "GBP", "JPY", "CNY", "INR", "CHF", "CAD", "AUD", "NZD", "HKD", "SGD",
        "KRW", "RUB", "BRL", "MXN", "ZAR", "TRY", "SEK", "NOK", "DKK", "PLN", "UAH", "ILS",
        "SAR", "AED", "NGN",
    )
)  # fmt: skip
_CURRENCY_WORDS = {
    "dollar": "USD", "dollars": "USD", "euro": "EUR", "euros": "EUR", "sterling": "GBP",
    "yen": "JPY", "yuan": "CNY", "renminbi": "CNY", "rupee": "INR", "rupees": "INR",
    "rouble": "RUB", "roubles": "RUB", "ruble": "RUB", "rubles": "RUB",
}  # fmt: skip

# The words that may follow a number and belong to it ("15 percent", "5 million dollars").
_AFTER_WORDS = frozenset({"percent", "pct", "per", "or", "us", "pound", "pounds", *_CURRENCY_WORDS})

# Words after a number that send it down the full reading rather than the fast path.
_PLAIN_BREAKERS = _AFTER_WORDS | {"to", "and"}


_Trie: TypeAlias = "dict[str, _Trie]"


def _alternation(words: set[str]) -> str:
    """A regular expression matching any of ``words`` in any case, shaped as a trie and with a
    character class per letter (``[oO][nN][eE]``): it scans faster than ``re.IGNORECASE``."""
    trie: _Trie = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def branch(node: _Trie) -> str:
        alternatives = [f"[{ch}{ch.upper()}]" + branch(node[ch]) for ch in sorted(node) if ch]
        if not alternatives:
            return ""
        body = "(?:" + "|".join(alternatives) + ")"
        return body + "?" if "" in node else body

    return branch(trie)


# Only the words that can be or surround a number are tokens; every other word is skipped, and
# since each reading checks the text between two tokens, a skipped word still separates them.
_TOKEN_WORDS = {
    *_START, *_UNIT_ORDINALS, *_DENOMINATORS, *_PLURAL_DENOMINATORS, *_DIGIT_SCALES,
    *(w for phrase in _QUALIFIERS for w in phrase), *_AFTER_WORDS, *_PLAIN_BREAKERS,
    "a", "an", "of", "no", "another", "cent", "so", "plus", "odd", "sterling", "between", "from",
    "several", "few", *(c.lower() for c in _CURRENCY_CODES),
    *(p.lower() for p in _DOLLAR_PREFIXES),
}  # fmt: skip
# One group only, so that ``split`` returns text and tokens alternately, all of them strings.
_TOKEN = re.compile(
    r"((?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[\u2008\u2009\u202f]\d{3})+|\d+)"
    r"(?:\.\d+)?"  # 1,000 / 1 000 (thin spaces) / 12 / 3.5
    r"(?:st|nd|rd|th|%|m|mn|bn|tn|k)?(?!\w)"  # 12th, 15%, 50m, 4.5bn, 10k
    rf"|(?<![A-Za-z]){_alternation(_TOKEN_WORDS)}(?![A-Za-z]))"
)
_SUFFIX_LETTERS = "stndrhmbk%"  # what a digit token may end with after its digits
_SYMBOLS = "".join(_CURRENCY_SYMBOLS)
_SPACES = " \t\n\r\u00a0\u2009\u202f\u2008"
_INLINE_SPACE = " \u00a0"
_RUN_GAP = " -\u00a0"  # what may stand between the words of one number
_GROUP_SEPARATORS = str.maketrans("", "", ",\u2008\u2009\u202f")
_RANGE_DASH = re.compile(rf"[{_SPACES}]*[-–][{_SPACES}]*[{_SYMBOLS}]?")
# Right before digits: "~", a minus before a currency sign, the sign, spaces.
_PREFIX = re.compile(
    rf"(?P<approx>[~≈])?[ \u00a0]*(?:(?P<sign>[-−])?(?P<symbol>[{_SYMBOLS}]))?[ \u00a0]*\Z"
)
_SIGN_BEFORE = frozenset("([{:;,=/" + _SPACES)
_PREFIX_CHARS = frozenset(_SYMBOLS + "~≈-−+–")  # what may stand right before a number
_PLAIN_AFTER = frozenset(",;:.!?)]}'\"/\n\r\t")  # what, right after a number, adds nothing


@dataclass(frozen=True, slots=True)
class Number:
    """A number stated in a text: the words as written, its value, and the interval it stands for.

    ``text == scanned[start:end]``. ``value`` has its scale applied ("1.2 million" is 1,200,000)
    and is the low end of a range or a vague count; ``low``/``high`` bound what the words allow
    (``inf`` when open above). ``unit`` is ``"percent"``, a currency code (``"USD"``) or None;
    ``ordinal`` is true for "12th" and "third"; ``form`` says how the number is worded.
    ``scale`` is the multiplier a scale word or suffix of a thousand or more applied
    (``value / scale`` is the number as its digits write it). ``figures`` are the numerals as
    :func:`numbers_in` reports them.
    """

    text: str
    start: int
    end: int
    value: float
    low: float
    high: float
    unit: str | None = None
    ordinal: bool = False
    form: Form = "exact"
    scale: float = 1.0
    figures: tuple[tuple[str, float], ...] = ()

    @classmethod
    def exact(cls, value: float, unit: str | None = None) -> Number:
        """A number known only by its value (a record's quantity), written as a briefing would."""
        text = f"{int(value):,}" if value == int(value) else f"{value:,}"
        return cls(text, 0, len(text), float(value), float(value), float(value), unit)


class _Core:
    """A numeral or word number before its context (qualifier, unit, range) is read."""

    __slots__ = (
        "bare_scale", "digits", "end", "figures", "fraction", "leading_zero", "ordinal", "percent",
        "scale", "sign", "sign_start", "start", "tok_end", "tok_start", "vague", "value",
    )  # fmt: skip

    def __init__(self, tok_start: int, tok_end: int, start: int, end: int, value: float) -> None:
        self.tok_start = tok_start
        self.tok_end = tok_end
        self.start = start
        self.end = end
        self.value = value
        self.scale = 1.0
        self.ordinal = False
        self.percent = False
        self.vague: tuple[float, float] | None = None
        self.bare_scale = False
        self.fraction = False
        self.leading_zero = False
        self.digits = False
        self.figures: tuple[tuple[str, float], ...] = ()
        self.sign = 1.0
        self.sign_start = start


class _Lead(NamedTuple):
    words: list[tuple[str, int]]  # the words before a number, nearest first, with their starts
    start: int  # where the sign, currency or "~" before the number begins
    currency: str | None
    approx: bool  # "~30"
    negative: bool


class _After(NamedTuple):
    end: int  # where the number's text ends
    percent: bool
    currency: str | None
    form: Form | None  # "30+", "30-plus", "30 or so"


class _Scan:
    """One text, its tokens, and the readings built on them."""

    def __init__(self, text: str) -> None:
        # One split in C gives the tokens and the text between them; their offsets come from
        # the running sum of the pieces' lengths. Only strings and ints are kept per token.
        pieces = _TOKEN.split(text)
        self.text = text
        self.gaps = pieces[0::2]  # gaps[j]: the text before token j (gaps[n]: after the last)
        self.raw = pieces[1::2]  # each token as written
        self.low = "\0".join(self.raw).lower().split("\0") if self.raw else []
        self.pos = list(accumulate(map(len, pieces)))  # token j spans pos[2j]:pos[2j + 1]
        self.n = len(self.raw)

    # --- token helpers --------------------------------------------------------------------

    def word(self, j: int) -> str | None:
        """Token ``j`` lowercased when it is a word, else None."""
        if 0 <= j < self.n:
            w = self.low[j]
            return w if w[0].isalpha() else None
        return None

    def raw_word(self, j: int) -> str | None:
        """Token ``j`` as written when it is a word, else None."""
        if 0 <= j < self.n:
            w = self.raw[j]
            return w if w[0].isalpha() else None
        return None

    def begin_of(self, j: int) -> int:
        return self.pos[2 * j]

    def end_of(self, j: int) -> int:
        return self.pos[2 * j + 1]

    def gap(self, j: int) -> str:
        """The text between token ``j - 1`` and token ``j``."""
        return self.gaps[j]

    def joined(self, j: int, allowed: str = _INLINE_SPACE) -> bool:
        """Whether token ``j`` follows token ``j - 1`` across only ``allowed`` characters."""
        return 0 < j < self.n and not self.gaps[j].strip(allowed)

    # --- pass 1: numerals -----------------------------------------------------------------

    def cores(self) -> list[_Core]:
        found: list[_Core] = []
        skip = 0
        for i, w in enumerate(self.low):
            if i < skip:
                continue
            core: _Core | None
            if w[0].isalpha():
                if w not in _START:
                    continue
                core = self.words(i, w)
                if core is None:
                    continue
            else:
                core = self.digits(i)
            found.append(core)
            skip = core.tok_end
        return found

    def digits(self, i: int) -> _Core:
        written = self.raw[i]
        num = written.rstrip(_SUFFIX_LETTERS)
        suffix = written[len(num) :] or None
        start, end = self.pos[2 * i], self.pos[2 * i + 1]
        core = _Core(i, i + 1, start, end, float(num.translate(_GROUP_SEPARATORS)))
        core.leading_zero = num[0] == "0" and len(num) > 1 and num[1] != "."
        core.digits = True
        if suffix is None:
            following = self.low[i + 1] if i + 1 < self.n else "0"
            if following in _DIGIT_SCALES and not self.gaps[i + 1].strip(" \t\n\r\u00a0-"):
                scale = _DIGIT_SCALES[following]
                core.value *= scale
                core.scale = scale if scale >= 1_000 else 1.0
                written = f"{written} {self.raw[i + 1]}"
                core.tok_end, core.end = i + 2, self.pos[2 * i + 3]
            elif following == "and":
                self.and_a_half(core)
        elif suffix in _SUFFIX_SCALES:
            core.value *= _SUFFIX_SCALES[suffix]
            core.scale = _SUFFIX_SCALES[suffix]
        elif suffix == "%":
            core.percent = True
        else:
            core.ordinal = True
        if not core.figures:
            core.figures = ((written, core.value),)
        if start and self.text[start - 1] in "-−+":
            self.read_sign(core)
        return core

    def and_a_half(self, core: _Core) -> None:
        """ "2 and a half", "2 and a half million": the fraction and scale join the digits."""
        j = core.tok_end
        part = self.word(j + 2)
        if not (
            self.word(j + 1) in ("a", "an")
            and part in ("half", "quarter")
            and self.joined(j)
            and self.joined(j + 1)
            and self.joined(j + 2)
        ):
            return
        core.value += 0.5 if part == "half" else 0.25
        core.tok_end, core.end = j + 3, self.end_of(j + 2)
        scale_word = self.word(j + 3)
        if scale_word in _SCALES and self.joined(j + 3):
            core.scale = float(_SCALES[scale_word])
            core.value *= core.scale
            core.tok_end, core.end = j + 4, self.end_of(j + 3)
        core.figures = ((self.text[core.start : core.end], core.value),)

    def read_sign(self, core: _Core) -> None:
        at = core.start - 1
        if at >= 0 and self.text[at] in "-−+" and self.sign_allowed(at):
            core.sign = 1.0 if self.text[at] == "+" else -1.0
            core.sign_start = at

    def absorb_article(self, core: _Core) -> None:
        """Take a leading "a"/"an" into the number's span ("a dozen", "a million")."""
        j = core.tok_start
        if self.word(j - 1) in ("a", "an") and self.joined(j):
            core.tok_start = j - 1
            core.start = core.sign_start = self.begin_of(j - 1)

    def words(self, i: int, w: str) -> _Core | None:
        if w in VAGUE_NUMBER_WORDS:
            return self.vague(i, w)
        if w == "half":
            return self.half(i)
        if w == "one" and (self.word(i - 1) == "no" and self.joined(i)):
            return None
        if w == "one" and (self.word(i + 1) == "another" and self.joined(i + 1)):
            return None
        if w in _DENOMINATORS and self.word(i - 1) in ("a", "an") and self.joined(i):
            core = self.article_fraction(i, w)
            if core is not None or w == "quarter":
                return core
        elif w == "quarter":
            return self.scaled_fraction(i, 0.25)
        if w in NUMBER_WORDS:
            return self.run(i)
        if w in ORDINAL_WORDS:
            core = _Core(i, i + 1, self.begin_of(i), self.end_of(i), float(ORDINAL_WORDS[w]))
            core.ordinal = True
            core.figures = ((self.raw[i], core.value),)
            return core
        return None

    def vague(self, i: int, w: str) -> _Core | None:
        low, high = VAGUE_NUMBER_WORDS[w]
        end = i + 1
        if self.word(i + 1) == "of" and self.joined(i + 1):
            q = self.word(i + 2)
            if q in _PLURAL_SCALES and self.joined(i + 2):
                low, high = low * _PLURAL_SCALES[q], high * _PLURAL_SCALES[q]
                end = i + 3
        elif w == "tens":
            return None
        core = _Core(i, end, self.begin_of(i), self.end_of(end - 1), low)
        core.vague = (low, high)
        return core

    def half(self, i: int) -> _Core | None:
        """ "half a million", "half a dozen", "(a) half-million"; "half" alone is no number."""
        j = i + 1
        if self.word(j) in ("a", "an") and self.joined(j):
            j += 1
        elif not self.joined(j, _RUN_GAP):
            return None
        scale_word = self.word(j)
        if scale_word not in _DIGIT_SCALES or scale_word in ("mn", "mln", "bn", "bln", "tn"):
            return None
        if not self.joined(j, _RUN_GAP if j == i + 1 else _INLINE_SPACE):
            return None
        return self.fraction_core(i, j + 1, 0.5 * _DIGIT_SCALES[scale_word], scale_word)

    def scaled_fraction(self, i: int, fraction: float) -> _Core | None:
        """ "quarter million", "quarter-million"."""
        scale_word = self.word(i + 1)
        if scale_word in _SCALES and self.joined(i + 1, _RUN_GAP):
            return self.fraction_core(i, i + 2, fraction * _SCALES[scale_word], scale_word)
        return None

    def article_fraction(self, i: int, w: str) -> _Core | None:
        """ "a third of", "a quarter of", "a quarter million" ("a fifth term" is an ordinal)."""
        fraction = 1 / _DENOMINATORS[w]
        if w == "half":
            return None
        if self.word(i + 1) == "of" and self.joined(i + 1):
            return self.fraction_core(i, i + 1, fraction, None)
        if w == "quarter":
            return self.scaled_fraction(i, fraction)
        return None

    def fraction_core(self, i: int, end: int, value: float, scale_word: str | None) -> _Core:
        core = _Core(i, end, self.begin_of(i), self.end_of(end - 1), value)
        if scale_word is not None and _DIGIT_SCALES[scale_word] >= 1_000:
            core.scale = _DIGIT_SCALES[scale_word]
        core.fraction = True
        core.figures = ((self.text[core.start : core.end], value),)
        self.absorb_article(core)
        return core

    def run(self, i: int) -> _Core | None:
        """A compound of number words from token ``i``: "twenty-five", "two hundred and five"."""
        total, current, scale = 0.0, 0.0, 0.0
        last: str | None = None
        ordinal = fraction = False
        j = i
        while j < self.n:
            w = self.word(j)
            if w is None or (j > i and not self.joined(j, _RUN_GAP)):
                break
            if w in _UNITS:
                v = _UNITS[w]
                if not (last in (None, "hundred", "scale", "and") or (last == "tens" and v < 10)):
                    break
                if last == "tens" and v == 0:
                    break
                current += v
                last = "unit"
            elif w in _TENS:
                if last not in (None, "hundred", "scale", "and"):
                    break
                current += _TENS[w]
                last = "tens"
            elif w == "hundred":
                if last not in (None, "unit", "tens") or current >= 100:
                    break
                current = max(current, 1) * 100
                last = "hundred"
            elif w in _SCALES:
                s = _SCALES[w]
                if last not in (None, "unit", "tens", "hundred", "dozen") or (scale and s >= scale):
                    break
                total += max(current, 1) * s
                current, scale, last = 0.0, float(s), "scale"
            elif w == "dozen":
                if last not in (None, "unit", "tens"):
                    break
                current = max(current, 1) * 12
                last = "dozen"
            elif w == "and":
                nxt = self.word(j + 1)
                if not self.joined(j + 1, _RUN_GAP):
                    break
                if last in ("hundred", "scale") and (
                    nxt in _UNITS or nxt in _TENS or nxt in _UNIT_ORDINALS or nxt in _TENS_ORDINALS
                ):
                    last = "and"
                elif (
                    last in ("unit", "tens", "hundred")
                    and nxt in ("a", "an")
                    and self.word(j + 2) in ("half", "quarter")
                    and self.joined(j + 2)
                ):
                    current += 0.5 if self.word(j + 2) == "half" else 0.25
                    j += 3
                    s_word = self.word(j)
                    if s_word in _SCALES and self.joined(j):
                        total += current * _SCALES[s_word]
                        current, scale = 0.0, float(_SCALES[s_word])
                        j += 1
                    last = "end"
                    break
                else:
                    break
            elif w in _UNIT_ORDINALS:
                # "twenty-first", "a hundred and first"; not "twenty first-time", "$1 million
                # first prize": a space after tens or a scale word leaves the ordinal apart.
                v = _UNIT_ORDINALS[w]
                hyphen = self.gap(j) == "-"
                if not (last == "and" or (last == "tens" and v < 10 and hyphen)):
                    if last == "unit" and current == 1 and w in _DENOMINATORS and total == 0:
                        current = 1 / _DENOMINATORS[w]  # "one-fifth", "one third"
                        fraction = True
                        j += 1
                    break
                current += v
                ordinal, last = True, "ordinal"
                j += 1
                break
            elif w in _TENS_ORDINALS:
                if last != "and":
                    break
                current += _TENS_ORDINALS[w]
                ordinal, last = True, "ordinal"
                j += 1
                break
            elif w == "hundredth" or w in _SCALE_ORDINALS:
                if last not in ("unit", "tens") and not (w != "hundredth" and last == "hundred"):
                    break
                if w == "hundredth":
                    current *= 100
                else:
                    total += current * _SCALE_ORDINALS[w]
                    current = 0.0
                ordinal, last = True, "ordinal"
                j += 1
                break
            elif w in _DENOMINATORS or w in _PLURAL_DENOMINATORS:
                # "two-thirds", "three quarters", "one half", "one quarter"
                plural = w in _PLURAL_DENOMINATORS
                count_ok = 2 <= current <= 10 if plural else current == 1
                if last == "unit" and total == 0 and count_ok:
                    current /= _PLURAL_DENOMINATORS[w] if plural else _DENOMINATORS[w]
                    fraction = True
                    j += 1
                break
            else:
                break
            j += 1
        if last == "and":  # a trailing "and" belongs to the text, not the number
            j -= 1
        if j == i:
            return None
        core = _Core(i, j, self.begin_of(i), self.end_of(j - 1), total + current)
        core.ordinal = ordinal
        core.fraction = fraction
        core.scale = scale if scale >= 1_000 else 1.0
        core.bare_scale = self.word(i) in ("hundred", "dozen", *_SCALES)
        core.figures = ((self.text[core.start : core.end], core.value),)
        if core.bare_scale:
            self.absorb_article(core)
        return core

    # --- pass 2: context ------------------------------------------------------------------

    def lead(self, core: _Core) -> _Lead:
        """What stands right before a core: sign, currency, "~", and up to three words."""
        text = self.text
        j = core.tok_start
        begin = self.end_of(j - 1) if j > 0 else 0
        start = core.sign_start
        negative = core.sign < 0
        currency: str | None = None
        approx = False
        if start - begin != 1 or text[begin] != " ":  # the common case, one space, needs no look
            window = text[max(begin, start - 12) : start]
            offset = start - len(window)
            m = _PREFIX.search(window)
            if m is not None and m.group("symbol") and not core.ordinal and not core.percent:
                currency = _CURRENCY_SYMBOLS[m.group("symbol")]
                start = offset + m.start("symbol")
                if m.group("sign") and self.sign_allowed(offset + m.start("sign")):
                    negative = True
                    start = offset + m.start("sign")
            if m is not None and m.group("approx"):
                approx = True
                start = offset + m.start("approx")
        rest = text[begin:start]
        q = j - 1
        if q < 0 or self.raw_word(q) is None:
            return _Lead([], start, currency, approx, negative)
        raw = self.raw_word(q)
        if currency == "USD" and rest == "" and raw in _DOLLAR_PREFIXES:
            currency, start = _DOLLAR_PREFIXES[raw], self.begin_of(q)
            q -= 1
            rest = self.gap(q + 1)
        elif (
            currency is None
            and raw in _CURRENCY_CODES
            and not (approx or core.ordinal or core.percent)
            and rest
            and not rest.strip(_INLINE_SPACE)
        ):
            currency, start = raw, self.begin_of(q)
            q -= 1
            rest = self.gap(q + 1)
        words: list[tuple[str, int]] = []
        if q >= 0 and rest and not rest.strip(_SPACES) and self.word(q) in _LEAD_WORDS:
            while q >= 0 and len(words) < 3:
                w = self.word(q)
                if w is None:
                    break
                words.append((w, self.begin_of(q)))
                if not self.joined(q, _SPACES):
                    break
                q -= 1
        return _Lead(words, start, currency, approx, negative)

    def sign_allowed(self, at: int) -> bool:
        return at == 0 or self.text[at - 1] in _SIGN_BEFORE

    def after(self, core: _Core) -> _After:
        """What follows a core: a percent sign or word, a currency, "+", "-plus", "or so"."""
        text = self.text
        end, j = core.end, core.tok_end
        if core.ordinal:
            return _After(end, False, None, None)
        percent, currency = core.percent, None
        nxt = self.begin_of(j) if j < self.n else len(text)
        if text[end : end + 1] == " ":  # the common case: one space, then a word
            if nxt != end + 1 or j == self.n:
                if text[end + 1 : end + 2].isalpha():  # a skipped word
                    return _After(end, percent, None, None)
            elif self.raw_word(j) is None or (
                self.low[j] not in _AFTER_WORDS and self.raw_word(j) not in _CURRENCY_CODES
            ):
                return _After(end, percent, None, None)
        gap = text[end:nxt]
        stripped = gap.lstrip(" \u00a0\u2009\u202f")
        if not percent and stripped.startswith("%"):
            percent, end = True, nxt - len(stripped) + 1
        elif not percent and gap and not gap.strip(_INLINE_SPACE) and j < self.n:
            w = self.word(j)
            if w in ("percent", "pct"):
                percent, end, j = True, self.end_of(j), j + 1
            elif w == "per" and self.word(j + 1) == "cent" and self.joined(j + 1):
                percent, end, j = True, self.end_of(j + 1), j + 2
            elif w is not None:
                currency, end, j = self.currency_after(core, j)
        nxt = self.begin_of(j) if j < self.n else len(text)
        gap = text[end:nxt]
        if gap.startswith("+") and not text[end + 1 : end + 2].isdigit():
            return _After(end + 1, percent, currency, "at least")
        if gap == "-" and self.word(j) in ("plus", "odd"):  # "30-plus", "30-odd"
            form: Form = "at least" if self.word(j) == "plus" else "just over"
            return _After(self.end_of(j), percent, currency, form)
        so = self.word(j) == "or" and self.word(j + 1) == "so" and self.joined(j + 1)
        if so and gap and not gap.strip(_INLINE_SPACE):
            return _After(self.end_of(j + 1), percent, currency, "about")
        return _After(end, percent, currency, None)

    def currency_after(self, core: _Core, j: int) -> tuple[str | None, int, int]:
        """A currency named after a number: "USD", "dollars", "4.5 million pounds"."""
        raw = self.raw[j]
        w = raw.lower()
        if raw in _CURRENCY_CODES:
            return raw, self.end_of(j), j + 1
        if raw == "US" and self.word(j + 1) in ("dollar", "dollars") and self.joined(j + 1):
            return "USD", self.end_of(j + 1), j + 2
        if w in _CURRENCY_WORDS:
            return _CURRENCY_WORDS[w], self.end_of(j), j + 1
        if w in ("pound", "pounds"):
            if self.word(j + 1) == "sterling" and self.joined(j + 1):
                return "GBP", self.end_of(j + 1), j + 2
            if core.scale > 1.0:
                return "GBP", self.end_of(j), j + 1
        return None, core.end, j

    def glued(self, a: _Core, b: _Core) -> bool:
        """Whether ``b`` follows ``a`` across a bare hyphen or dash (``30-40``, ``2024-01``)."""
        return b.tok_start == a.tok_end and self.text[a.end : b.start] in ("-", "–")

    def ranged(self, cores: list[_Core], k: int, lead: _Lead) -> bool:
        """Whether cores ``k`` and ``k + 1`` are the two ends of one range."""
        low, high = cores[k], cores[k + 1]
        if low.ordinal or high.ordinal or low.vague or high.vague or low.fraction:
            return False
        if high.fraction or low.leading_zero or high.leading_zero:
            return False
        if high.tok_start == low.tok_end:  # "30-40", "$5m-$6m": digits only, not "one-five"
            if (
                not (low.digits and high.digits) or high.sign_start != high.start
            ):  # "30 -40": the hyphen is a sign
                return False
            if _RANGE_DASH.fullmatch(self.text[low.end : high.start]) is None:
                return False
            chained = (k > 0 and self.glued(cores[k - 1], low)) or (
                k + 2 < len(cores) and self.glued(high, cores[k + 2])
            )
            return not chained
        if high.tok_start == low.tok_end + 1 and self.joined(low.tok_end):
            between = self.text[self.end_of(low.tok_end) : high.sign_start]
            if between.strip(" \u00a0" + _SYMBOLS):
                return False
            connector = self.word(low.tok_end)
            if connector == "to":
                return True
            return connector == "and" and bool(lead.words) and lead.words[0][0] == "between"
        return False

    def plain(self, core: _Core) -> bool:
        """Whether nothing around a core can change its reading, so that it needs no closer look:
        no sign, currency, "~" or qualifier before it, no unit, "+" or range connector after."""
        text = self.text
        if core.vague is not None or core.sign_start != core.start:
            return False
        j, start, end = core.tok_start, core.start, core.end
        if start:
            c = text[start - 1]
            if c in _SPACES:
                if j and self.end_of(j - 1) == start - 1:
                    w = self.raw_word(j - 1)
                    if w is not None and (w.lower() in _LEAD_WORDS or w in _CURRENCY_CODES):
                        return False
                elif start < 2 or not (text[start - 2].isalnum() or text[start - 2] in ",.;:!?)]"):
                    return False  # spaces, a currency sign or a "~" may lie further back
            elif c in _PREFIX_CHARS and not (c == "-" and text[start - 2 : start - 1].isalpha()):
                return False  # "$5", "~5", "30-40"; not "F-35"
        if end == len(text):
            return True
        c = text[end]
        if c == " ":
            j = core.tok_end
            if j < self.n and self.begin_of(j) == end + 1:
                w = self.raw_word(j)
                return w is None or not (w.lower() in _PLAIN_BREAKERS or w in _CURRENCY_CODES)
            return text[end + 1 : end + 2].isalpha()  # a word that is no token
        if c == "-":  # "1,000-strong", not "30-40" nor "30-plus"
            following = text[end + 1 : end + 5].lower()
            return following[:1].isalpha() and following != "plus" and following[:3] != "odd"
        return c in _PLAIN_AFTER

    def numbers(self) -> list[Number]:
        cores = self.cores()
        found: list[Number] = []
        text = self.text
        k = 0
        while k < len(cores):
            core = cores[k]
            if self.plain(core):
                start, end, value = core.start, core.end, core.value
                unit = "percent" if core.percent else None
                found.append(
                    Number(
                        text[start:end],
                        start,
                        end,
                        value,
                        value,
                        value,
                        unit,
                        core.ordinal,
                        "exact",
                        core.scale,
                        core.figures,
                    )
                )
                k += 1
                continue
            lead = self.lead(core)
            number = None
            if k + 1 < len(cores) and self.ranged(cores, k, lead):
                number = self.build(core, cores[k + 1], lead)
            if number is not None:
                k += 2
            else:
                number = self.build(core, None, lead)
                k += 1
            if number is not None:
                found.append(number)
        return found

    def build(self, core: _Core, high: _Core | None, lead: _Lead) -> Number | None:
        """The number a core (or two, for a range) states, read with its context."""
        words, start = lead.words, lead.start
        after = self.after(high or core)
        value = -core.value if lead.negative else core.value
        scale = core.scale
        form: Form = "exact"
        if high is not None:
            top = high.sign * high.value
            if core.scale == 1.0 and high.scale > 1.0 and abs(value) <= abs(top) / high.scale:
                value, scale = value * high.scale, high.scale  # "5 to 6 million"
            if words and words[0][0] == "between":
                value, top = min(value, top), max(value, top)
            elif not value < top:
                return None  # "from 40 to 30", "7 to 2": two numbers
            if words and words[0][0] in ("between", "from"):
                start, words = words[0][1], words[1:]
            low, upper, form = value, top, "range"
        elif core.vague is not None:
            low, upper, form = core.vague[0], core.vague[1], "vague"
        elif core.bare_scale and words and words[0][0] in ("several", "few"):
            n = 2 if [w for w, _ in words[:2]] == ["few", "a"] else 1
            start, words = words[n - 1][1], words[n:]
            value = low = 2 * core.value  # "several hundred", "a few thousand"
            upper, form = 10 * core.value, "vague"
        else:
            low = upper = value
        qualifier: Form | None = "about" if lead.approx else None
        if words and not core.ordinal and qualifier is None:
            for n in (3, 2, 1):
                phrase = tuple(w for w, _ in words[:n][::-1])
                if len(phrase) == n and phrase in _QUALIFIERS:
                    qualifier, start = _QUALIFIERS[phrase], words[n - 1][1]
                    break
        qualifier = qualifier or after.form
        if qualifier is not None:
            low, upper = _qualified(qualifier, low, upper)
            if form == "exact":
                form = qualifier
        if core.ordinal:
            unit = None
        elif after.percent or core.percent:
            unit = "percent"
        else:
            unit = lead.currency or after.currency
            if unit is None and high is not None:
                unit = self.lead(high).currency
        figures = core.figures + (high.figures if high is not None else ())
        end = after.end
        text = self.text[start:end]
        return Number(text, start, end, value, low, upper, unit, core.ordinal, form, scale, figures)


def _qualified(form: Form, low: float, high: float) -> tuple[float, float]:
    if form == "at least":
        return low, math.inf
    if form == "at most":
        return (0.0 if high >= 0 else -math.inf), high
    # A tenth either side, as v - v / 10 and v + v / 10 (exact for round numbers, unlike 0.9 v).
    below = low - abs(low) / 10 if form in ("nearly", "about") else low
    above = high + abs(high) / 10 if form in ("just over", "about") else high
    return below, above


def find_numbers(text: str) -> list[Number]:
    """Every number stated in ``text``, in order (see the module docstring for what is read)."""
    return _Scan(text).numbers()


def numbers_in(text: str) -> list[tuple[str, float]]:
    """Every number stated in ``text``, as (the words or digits as written, its value).

    The contract of the citation check: numerals without their qualifiers, signs or units, a
    range as its two ends, vague counts ("dozens") left out.
    """
    return [figure for number in find_numbers(text) for figure in number.figures]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _readings(number: Number) -> list[float]:
    """The factors by which a value may be written for ``number``: scaled or not, 15% or 0.15."""
    factors = [1.0]
    if number.scale != 1.0:
        factors.append(1 / number.scale)
    if number.unit == "percent":
        factors += [f / 100 for f in factors]
    elif 0 < abs(number.value) < 1 and number.form == "exact":
        factors.append(100.0)  # a proportion: "a quarter" is 0.25 or 25 (percent)
    return factors


def value_agrees(value: float, text: str) -> bool:
    """Whether a model's ``value`` is the number its quoted ``text`` writes.

    True when some number in ``text`` equals it, with the scale applied or not ("$1.2 billion":
    1.2e9 or 1.2), a percentage as itself or as a proportion ("15%": 15 or 0.15), a negative
    number as itself or its magnitude, or when it lies inside a range or vague count the text
    writes ("between 30 and 40": 30 to 40; "dozens": 24 to 144). A qualified number agrees only
    with the number written ("about 3,000" with 3,000, not 3,100). False when the text writes no
    number ("several ships") or none that agrees ("five vessels" and 7).
    """
    for number in find_numbers(text):
        for factor in _readings(number):
            if number.form in ("range", "vague"):
                low, high = number.low * factor, number.high * factor
                if low - 1e-9 * abs(low) <= value <= high + 1e-9 * abs(high):
                    return True
            written = number.value * factor
            if _close(value, written) or (written < 0 and _close(value, -written)):
                return True
    return False


def compatible(a: Number, b: Number) -> bool:
    """Whether ``a`` and ``b`` can both be true: their intervals meet and their units do not differ.

    "at least 12" and 14: yes; 5 and 6: no; "about 3,000" and 3,100: yes; "about 3,000" and
    2,000: no. A number without a unit meets one with a unit; ordinals are not told apart.
    """
    if a.unit is not None and b.unit is not None and a.unit != b.unit:
        return False

    def slack(x: float) -> float:
        return 0.0 if math.isinf(x) else 1e-9 * max(abs(x), 1.0)

    return a.low <= b.high + slack(b.high) and b.low <= a.high + slack(a.high)
