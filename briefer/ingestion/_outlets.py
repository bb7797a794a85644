"""The outlet a text names, read from its lines (never guessed).

The outlet is the header's, else the first of these the text names, in this order:

- an ``Outlet:``/``Source:``/``Publisher:`` line near the top;
- a dateline's agency: ``SEOUL, Jan. 20 (Yonhap) --``, ``LONDON (Coastline News) —``;
- a byline in the top or bottom 15 lines: ``By Ana Ruiz, Coastline News`` (also after several
  names, ``By Ana Ruiz and Li Wei, Coastline News``), ``By ANA RUIZ | Coastline News``,
  ``By Ana Ruiz — Coastline News``, ``By Ana Ruiz for Coastline News``, ``By Ana Ruiz
  (Coastline News)``, ``By Reuters``, ``By Reuters staff``; without "By" (never on the title
  line): ``Ana Ruiz — Coastline News``, ``Ana Ruiz | Coastline News``, ``Ana Ruiz, Coastline
  News correspondent``, ``Ana Ruiz, Coastline News``;
- a credit: ``Reporting by Ana Ruiz in Seoul for Coastline News; editing by …``;
- a footer in the bottom 15 lines: ``© 2024 Coastline News``, ``Copyright Coastline News 2024.
  All rights reserved.`` (``Ltd``, ``Inc`` and the like dropped), ``This article first appeared
  in Coastline News`` (also "originally published on", "first published by", "republished
  from").

A role is no outlet and is cut from one: ``Staff Writer`` and ``Senior Correspondent`` name
none, ``Reuters staff`` is Reuters, ``Coastline News correspondent`` is Coastline News. Nor is a
section, beat or date (``World``, ``Politics``, ``Middle East``, ``March 4``), a picture credit
(``Getty Images``), or a name signed as an author's. Where a byline leaves open whether words
are a second author or an outlet (``By Ana Ruiz, Li Wei``), they are an outlet only when they
read as one: a single word (``Reuters``), an outlet's word (``News``, ``Times``, ``Post``,
``Herald``…), a leading ``The``, an acronym (``BBC``) or a domain. The same is asked of what is
left before a role other than "staff" (``Washington correspondent`` is a beat), of a signature
without "By" set off by a comma, and of a copyright holder (``© 2024 Ana Ruiz`` names none).
Lines longer than 300 characters are prose and are not read for any of this. Nothing is
guessed: when none of these names an outlet it stays unknown (a fetched page falls back to its
host name).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from briefer.ingestion._dates import DATELINE
from briefer.ingestion._meta import LINE_CHARS, bottom_lines, top_lines

__all__ = ["COPYRIGHT", "footer_outlet", "outlet_from_text"]

_SIGNATURE_CHARS = 120
# A dateline without a date: ``LONDON (Coastline News) —``.
_CITY_AGENCY = re.compile(
    r"^[A-Z][A-Z .'’-]{1,40}(?:, [A-Z][A-Za-z .]{1,30})?[ \t]{0,3}"
    r"\((?P<agency>[^()\n]{1,40})\)[ \t]{0,3}(?:--|—|–|-)"
)
_OUTLET_LINE = re.compile(r"^(?:Outlet|Source|Publisher)[ \t]*:[ \t]*(?P<value>\S.*)$", re.I)
_BY = re.compile(r"^(?:By|BY)[ \t]+(?=\S)")
_CREDIT = re.compile(
    r"^\(?[ \t]*(?:Additional[ \t]+)?(?:Reporting|Reported|Writing|Written)[ \t]+by[ \t]+", re.I
)
COPYRIGHT = re.compile(r"^(?:©|\([cC]\)|copyright\b)", re.I)
_APPEARED = re.compile(
    r"\b(?:(?:first|originally)[ \t]+(?:appeared|published|ran)|republished)"
    r"[ \t]+(?:in|on|at|by|from)[ \t]+",
    re.I,
)
# Between the parts of a byline: "|", a dash, or a spaced hyphen (never the one in "Jean-Paul").
_DASH_OR_PIPE = re.compile(r"[ \t]*[|·•—–][ \t]*|[ \t]+--?[ \t]+")
_INITIALISM = re.compile(r"^(?:[A-Z]\.){2,}$")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,3}\.[a-z]{2,24}$")
_COPYRIGHT_YEARS = re.compile(r"^\d{4}(?:[-–]\d{2,4})?[,.]?$")


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


# A byline's role: cut from the end of an outlet ("Reuters staff"), never an outlet itself.
_ROLE_NOUNS = _vocabulary(
    "writer writers reporter reporters correspondent correspondents editor editors staff "
    "contributor contributors columnist columnists journalist journalists producer producers "
    "photographer photographers analyst analysts intern interns stringer stringers critic "
    "critics commentator commentators blogger bloggers chief"
)
_ROLE_WORDS = _ROLE_NOUNS | _vocabulary(
    "senior special contributing associate assistant deputy managing executive lead principal "
    "junior freelance guest bureau desk wire at-large large"
)
# Sections, beats, regions and dates: "World", "Politics", "Middle East", "March 4".
_SECTION_WORDS = _vocabulary(
    "world politics political business economy economics economic finance markets money sport "
    "sports opinion opinions technology tech science health culture arts entertainment "
    "lifestyle life style travel food national nation international local metro foreign affairs "
    "diplomatic diplomacy security defence defense military legal law justice courts crime "
    "environment climate energy education features feature analysis commentary editorial "
    "editorials letters video videos podcast podcasts live updates update breaking exclusive "
    "interview explainer explained factbox timeline home latest top stories story section "
    "investigations investigative data weather obituaries religion society global domestic "
    "state city region regional asia europe africa americas america middle east west north "
    "south latin pacific gulf arctic caribbean us u.s uk u.k eu un u.n white house capitol hill "
    "congress parliament government elections election news media today updated published "
    "posted edited january february march april may june july august september october "
    "november december jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday "
    "wednesday thursday friday saturday sunday"
)
# Words that make a name read as an outlet's, where it might as well be a second author's.
_OUTLET_WORDS = _vocabulary(
    "news times post herald journal tribune gazette press daily weekly review courier observer "
    "guardian telegraph chronicle report wire newswire media radio tv television network "
    "broadcasting broadcast magazine monitor star mail express standard independent "
    "bulletin dispatch record register sentinel examiner inquirer enquirer courant ledger "
    "mirror globe online insider digest agency service newspaper newspapers leader advertiser "
    "argus beacon banner echo pioneer voice recorder statesman citizen messenger "
    "intelligencer spectator economist channel fm group publishing publications mercury "
    "sun eagle clarion bugle nation today"
)
# Credits of pictures, not of the article.
_PICTURE_WORDS = _vocabulary(
    "image images photo photos photograph photographs photography pictures picture "
    "shutterstock alamy istock getty"
)
_CONNECTORS = _vocabulary("of the and & de del des du la le el al da di dos das y")
_NAME_PARTICLES = _vocabulary(
    "de del della der den des du da di dos das van von la le el al bin bint ibn ter ten y"
)
_NAME_SUFFIXES = _vocabulary("jr sr ii iii iv phd md")
_COMPANY_SUFFIXES = _vocabulary("ltd limited inc llc llp lp plc gmbh corp co s.a ag")
_TRAILING_PUNCTUATION = ".,;:!?)”\"'’"


def _word(token: str) -> str:
    return token.strip(_TRAILING_PUNCTUATION + "(“‘").lower()


def _is_name_token(token: str) -> bool:
    """Capitalised ("Ruiz", "O'Neil", "Jean-Paul", "J."), or a particle ("de", "van")."""
    return token[:1].isupper() or token.lower() in _NAME_PARTICLES


def _person_like(name: str) -> bool:
    """Two to five name-like words, none of them an outlet's, a role's or a section's."""
    tokens = name.split()
    if not 2 <= len(tokens) <= 5 or len(name) > 60:
        return False
    words = {_word(token) for token in tokens}
    if words & (_OUTLET_WORDS | _ROLE_WORDS | _SECTION_WORDS | _CONNECTORS - _NAME_PARTICLES):
        return False
    return all(_is_name_token(token) for token in tokens) and tokens[0][:1].isupper()


def _names(segment: str) -> list[str]:
    """The names in "Ana Ruiz, Li Wei and Tom Hart"."""
    parts = re.split(r",|;|[ \t]and[ \t]|[ \t]&[ \t]", segment)
    return [part.strip() for part in parts if part.strip()]


def _signed_by(segment: str) -> bool:
    """Whether ``segment`` is a list of people, perhaps with roles ("Ana Ruiz, Staff Writer")."""
    names = _names(segment)
    people = [name for name in names if _person_like(name)]
    roles = [name for name in names if all(_word(token) in _ROLE_WORDS for token in name.split())]
    return bool(people) and len(people) + len(roles) == len(names)


def _strip_role(name: str) -> tuple[str, str | None]:
    """``name`` without the role that ends it, and the role's last word: ``("Reuters",
    "staff")`` for "Reuters staff", ``("", "correspondent")`` for "Senior Correspondent"."""
    tokens = name.split()
    if not tokens or _word(tokens[-1]) not in _ROLE_NOUNS:
        return name, None
    role = _word(tokens[-1])
    # "Political Editor", "Middle East correspondent": the beat goes with the role, but not
    # an outlet's word ("Coastline News correspondent" keeps "News").
    beats = (_ROLE_WORDS | _SECTION_WORDS) - _OUTLET_WORDS
    while tokens and _word(tokens[-1]) in beats:
        tokens.pop()
    return " ".join(tokens), role


def _reads_as_outlet(tokens: Sequence[str], *, shouted: bool) -> bool:
    """A name that reads as an outlet's, not a person's: an outlet word ("News", "Times"), a
    leading "The", an acronym ("BBC"; not in a line written in capitals) or a domain."""
    if any(_word(token) in _OUTLET_WORDS for token in tokens):
        return True
    if len(tokens) > 1 and tokens[0] == "The":
        return True
    if not shouted and any(
        2 <= len(token.replace(".", "")) <= 5
        and token.replace(".", "").isalpha()
        and token.replace(".", "").isupper()
        for token in tokens
    ):
        return True
    return any(_DOMAIN.match(token) for token in tokens)


# How sure a form is that the words it points at are an outlet's.
_NAMED = 0  # "for Coastline News", "(Coastline News)", "first appeared in Coastline News"
_LISTED = 1  # beside the author's name: one word ("Reuters") or a name that reads as an outlet's
_READS = 2  # only a name that reads as an outlet's


def _outlet_or_none(
    name: str, level: int, *, authors: frozenset[str] = frozenset(), shouted: bool = False
) -> str | None:
    """``name`` as an outlet, or None when it is a role, a section, a date, a picture credit,
    an author's own name, or (by ``level``) might as well be a person's."""
    name = " ".join(name.split()).strip(" ,;:|—–-")
    name, role = _strip_role(name)
    if role is not None:
        # "Reuters staff" is Reuters; "Washington correspondent" is a beat, not an outlet.
        level = max(level, _LISTED if role == "staff" else _READS)
    name = name.strip(" ,;:|—–-")
    if name.startswith("the "):
        name = name[4:]
    tokens = name.split()
    if not tokens or len(tokens) > 8 or len(name) > 60 or "/" in name or "@" in name:
        return None
    for index, token in enumerate(tokens):
        inner = 0 < index < len(tokens) - 1
        if not (
            token[:1].isupper()
            or _DOMAIN.match(token)
            or (token[:1].isdigit() and any(c.isalpha() for c in token))
            or (index > 0 and token.isdigit())
            or (inner and token.lower() in _CONNECTORS)
        ):
            return None
    words = [_word(token) for token in tokens]
    if any(word in _PICTURE_WORDS for word in words):
        return None
    content = [w for w in words if w not in _CONNECTORS and w not in _NAME_SUFFIXES]
    if not content or all(w.isdigit() or w in _SECTION_WORDS | _ROLE_WORDS for w in content):
        return None
    if name.lower() in authors:
        return None
    if level == _LISTED and len(tokens) == 1:
        return name
    if level >= _LISTED and not _reads_as_outlet(tokens, shouted=shouted):
        return None
    return name


def _name_at(text: str) -> str:
    """The name that starts ``text``: capitalised words and the connectors between them, up to
    the first other word or the end of a clause ("Coastline News on March 3." → "Coastline
    News")."""
    tokens = text.split()
    if tokens and tokens[0] == "the":
        tokens = tokens[1:]
    name: list[str] = []
    for token in tokens:
        if token in {"—", "–", "-", "--", "|"} or token.startswith("("):
            break
        core = token if _INITIALISM.match(token) else token.rstrip(_TRAILING_PUNCTUATION)
        if not core:
            break
        if not (
            core[:1].isupper()
            or _DOMAIN.match(core)
            or (core[:1].isdigit() and any(c.isalpha() for c in core))
            or (name and core.lower() in _CONNECTORS)
        ):
            break
        name.append(core)
        if core != token:  # "News." or "News,": the clause ends
            break
    while name and name[-1].lower() in _CONNECTORS:
        name.pop()
    return " ".join(name)


def _byline_outlet(line: str, authors: frozenset[str], *, signature: bool = True) -> str | None:
    """The outlet a byline names (see the module docstring for the forms); ``signature``:
    also from a line without "By"."""
    shouted = line.isupper()
    by = _BY.match(line)
    if by is None:
        return _signature_outlet(line, authors, shouted) if signature else None
    rest = line[by.end() :]
    head, sep, tail = rest.partition(" for ")
    if sep and _signed_by(head):
        return _outlet_or_none(_name_at(tail), _NAMED, authors=authors, shouted=shouted)
    head, sep, tail = rest.partition("(")
    if sep and _signed_by(head.strip()):
        inside = tail.partition(")")[0]
        return _outlet_or_none(inside, _NAMED, authors=authors, shouted=shouted)
    segments = [part for part in _DASH_OR_PIPE.split(rest) for part in part.split(",")]
    segments = [segment.strip() for segment in segments if segment.strip()]
    if not segments:
        return None
    first, later = segments[0], segments[1:]
    if " and " in first or " & " in first or _person_like(first):
        later = [segment for segment in later if not _person_like(segment)]
    else:
        later = [first, *later]  # "By Reuters", "By Reuters staff"
    for segment in later:
        found = _outlet_or_none(segment, _LISTED, authors=authors, shouted=shouted)
        if found:
            return found
    return None


def _signature_outlet(line: str, authors: frozenset[str], shouted: bool) -> str | None:
    """A signature without "By": "Ana Ruiz — Coastline News", "Ana Ruiz | Coastline News",
    "Ana Ruiz, Coastline News correspondent", "Ana Ruiz, Coastline News"."""
    if len(line) > _SIGNATURE_CHARS:
        return None
    dashed = _DASH_OR_PIPE.split(line)
    if len(dashed) > 1 and _signed_by(dashed[0].strip()):
        for segment in dashed[1:]:
            found = _outlet_or_none(segment, _LISTED, authors=authors, shouted=shouted)
            if found:
                return found
        return None
    head, sep, tail = line.rpartition(", ")
    if sep and _signed_by(head):
        return _outlet_or_none(tail, _READS, authors=authors, shouted=shouted)
    return None


def _credit_outlet(line: str, authors: frozenset[str]) -> str | None:
    """ "Reporting by Ana Ruiz in Seoul for Coastline News; editing by …" → Coastline News."""
    credit = _CREDIT.match(line)
    if credit is None:
        return None
    clause = re.split(r"[;)]", line[credit.end() :], maxsplit=1)[0]
    _, sep, tail = clause.partition(" for ")
    return _outlet_or_none(_name_at(tail), _NAMED, authors=authors) if sep else None


def footer_outlet(line: str, authors: frozenset[str]) -> str | None:
    """ "© 2024 Coastline News", "Copyright Coastline News 2024. All rights reserved.", "This
    article first appeared in Coastline News"."""
    if COPYRIGHT.match(line):
        tokens = line.split()
        while tokens and (
            COPYRIGHT.match(tokens[0]) or _COPYRIGHT_YEARS.match(tokens[0]) or tokens[0] == "©"
        ):
            tokens = tokens[1:]
        name = _name_at(" ".join(tokens)).split()
        while name and _word(name[-1]) in _COMPANY_SUFFIXES:
            name.pop()
        # A person may hold the copyright too: "© 2024 Ana Ruiz" names no outlet.
        return _outlet_or_none(" ".join(name), _LISTED, authors=authors)
    appeared = _APPEARED.search(line)
    if appeared:
        return _outlet_or_none(_name_at(line[appeared.end() :]), _NAMED, authors=authors)
    return None


def _authors_in(lines: Sequence[str], given: str | None) -> frozenset[str]:
    """The names signed in bylines (and a header's ``Author:``), lowercased."""
    found = set(_names(given or ""))
    for line in lines:
        by = _BY.match(line) if len(line) <= LINE_CHARS else None
        if by:
            head = _DASH_OR_PIPE.split(line[by.end() :])[0]
            head = head.partition(" for ")[0].partition("(")[0]
            found.update(name for name in _names(head) if _person_like(name))
    return frozenset(name.lower() for name in found)


def outlet_from_text(text: str, author: str | None = None) -> str | None:
    """The outlet the text names, by the forms and in the order of the module docstring."""
    lines = top_lines(text)
    top = [line for line in lines if len(line) <= LINE_CHARS]
    for line in top:
        labelled = _OUTLET_LINE.match(line)
        if labelled:
            return labelled["value"].strip()
    for line in lines:
        head = line[:LINE_CHARS]
        dateline = DATELINE.match(head) or _CITY_AGENCY.match(head)
        agency = dateline["agency"] if dateline else None
        found = _outlet_or_none(agency, _NAMED) if agency else None
        if found:
            return found  # else "(AP Photo/…)": a byline may still name it
    bottom = [line for line in bottom_lines(text) if len(line) <= LINE_CHARS]
    authors = _authors_in(top + bottom, author)
    # The first line is the title: "Kim Jong Un — The Man Behind the Missiles" is signed by no
    # one, so it is read only for a "By" line.
    title = lines[0] if lines else None
    for line in top + bottom:
        found = _byline_outlet(line, authors, signature=line != title)
        if found:
            return found
    for line in bottom + top:
        found = _credit_outlet(line, authors)
        if found:
            return found
    for line in reversed(bottom):
        found = footer_outlet(line, authors)
        if found:
            return found
    return None
