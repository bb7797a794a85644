"""A reply's stance → the stored ``StanceRecord``, when its quotes carry it: the holder named in
the article, and a polarity that the side its quotes take (by their verbs) does not contradict.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from briefer.extraction._actors import canonicalize_actor
from briefer.extraction._ground import GroundedItem, evidence_carries
from briefer.extraction._ids import _stance_id
from briefer.extraction._named_actors import _actors_named
from briefer.models import Document, Evidence, ExtractedStance, StanceRecord

# Verbs and phrases that take a side. Only verbs count: "opposition parties" and "a chance
# against dumped imports" take none.
_FAVOR = re.compile(
    r"\b(?:support(?:s|ed|ing)?|backs|backed|backing|welcom(?:e|es|ed|ing)|"
    r"endors(?:e|es|ed|ing)|favou?r(?:s|ed|ing)?|in\s+favou?r\s+of|prais(?:e|es|ed|ing)|"
    r"accept(?:s|ed|ing)?|approv(?:e|es|ed|ing)|applaud(?:s|ed|ing)?|embrac(?:e|es|ed|ing)|"
    r"hail(?:s|ed|ing)?|agree(?:s|d)?\s+(?:to|with)|call(?:s|ed)?\s+for|"
    r"vot(?:e|es|ed|ing)\s+for)\b",
    re.IGNORECASE,
)
_AGAINST = re.compile(
    r"\b(?:oppos(?:e|es|ed|ing)|reject(?:s|ed|ing)?|condemn(?:s|ed|ing)?|"
    r"critici[sz](?:e|es|ed|ing)|denounc(?:e|es|ed|ing)|refus(?:e|es|ed|ing)|"
    r"object(?:s|ed|ing)?\s+to|deplor(?:e|es|ed|ing)|slam(?:s|med|ming)?|decr(?:y|ies|ied)|"
    r"veto(?:es|ed|ing)?|boycott(?:s|ed|ing)?|vot(?:e|es|ed|ing)\s+against|"
    r"(?:is|are|was|were|remains?|remained|came\s+out|stands?)\s+against|"
    r"wrong|a\s+mistake|unacceptable|(?:do|does|did)\s+not\s+need|no\s+need\s+for|"
    r"(?:not|never)\s+sign|"
    r"is\s+the\s+problem)\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\b(?:not|never|no\s+longer|won't|wouldn't|cannot|can't|refus(?:e|es|ed)\s+to)"
    r"(?:\s+\w+){0,2}\s*$",
    re.IGNORECASE,
)
_CONDITION = re.compile(r"\b(?:if|unless|whether)\b[^,.;:]*$", re.IGNORECASE)
# "rejected the criticism": against a charge is for what it charges.
_CHARGE = re.compile(
    r"^\s+(?:\w+\s+){0,2}(?:criticisms?|claims?|accusations?|allegations?|charges?|"
    r"suggestions?|assertions?)\b",
    re.IGNORECASE,
)


def _side_taken(text: str) -> str | None:
    """The side ``text`` takes by its verbs ("favor", "against"), or None when it takes both
    or neither. "Will not sign" is against; "rejected the criticism" is for."""
    sides = set()
    for pattern, side in ((_FAVOR, "favor"), (_AGAINST, "against")):
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 40) : match.start()]
            if _CONDITION.search(before):
                continue  # "if this law is signed": no side taken
            negated = _NEGATED.search(before)
            if side == "favor":
                sides.add("against" if negated else "favor")
            elif not negated:
                charge = _CHARGE.match(text[match.end() : match.end() + 40])
                sides.add("favor" if charge else "against")
    return sides.pop() if len(sides) == 1 else None


def _polarity_contradicted(stance: ExtractedStance, evidence: Sequence[Evidence]) -> bool:
    """The reply's polarity is the opposite of the side the quotes take (or, when they take
    none, the side its own claim takes): a polarity that would misreport the holder."""
    if stance.polarity == "neutral":
        return False
    quoted = _side_taken(" ".join(e.quote for e in evidence))
    side = quoted or _side_taken(stance.claim)
    return side is not None and side != stance.polarity


def _stance_record(
    doc: Document, grounded: GroundedItem[ExtractedStance], mentioned: frozenset[str]
) -> StanceRecord | None:
    stance = grounded.item
    if grounded.grounded:
        # Who holds a position is often named once and then "the agency said": anywhere in
        # the article will do.
        at = min(e.start for e in grounded.evidence)
        named = _actors_named([stance.holder], doc.text, mentioned, doc, at)
        if not named or _polarity_contradicted(stance, grounded.evidence):
            return None
        # A claim that names a side ("backs the offer") must be borne out by its quotes, by
        # the side they take or the words they share; idioms that name none ("the door of
        # this ministry is open") carry a claim that names none either.
        quoted = " ".join(e.quote for e in grounded.evidence)
        said = [stance.claim, stance.topic, stance.target or ""]
        claimed = _side_taken(stance.claim)
        if (
            claimed is not None
            and _side_taken(quoted) is None
            and not evidence_carries(said, grounded.evidence)
        ):
            return None
        holder = named[0]
    else:
        holder = canonicalize_actor(stance.holder)
    record = StanceRecord(
        id="st-pending",
        holder=holder,
        topic=stance.topic.strip(),
        target=(stance.target or "").strip() or None,
        polarity=stance.polarity,
        quote_type=stance.quote_type,
        claim=re.sub(r"\s+", " ", stance.claim).strip(),
        evidence=grounded.evidence,
        # The article reports the position as of its publication; the model gives no date.
        date=doc.source.published,
        source_id=doc.id,
        grounded=grounded.grounded,
    )
    return record.model_copy(update={"id": _stance_id(record)})
