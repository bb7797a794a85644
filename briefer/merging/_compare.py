"""Two events compared: may they be one event, and how alike are they (see "Events" in
``_merge`` for the rules)? Values they state that cannot both be true keep records of one
article apart and make outlets' reports join only on a strong match.
"""

from __future__ import annotations

from briefer.merging._counts import _meet
from briefer.merging._features import _EventFeatures
from briefer.merging._text import _jaccard
from briefer.models import EventRecord

__all__ = [
    "CONFLICT_ACTORS",
    "CONFLICT_TEXT",
    "MATCH_TEXT",
    "MATCH_TEXT_OTHER_TYPE",
    "ONGOING_TEXT",
    "SAME_SOURCE_TEXT",
    "STATEMENT_ACTORS",
    "UNDATED_TEXT",
]

MATCH_TEXT = 0.3
MATCH_TEXT_OTHER_TYPE = 0.5
SAME_SOURCE_TEXT = 0.5
UNDATED_TEXT = 0.3
ONGOING_TEXT = 0.15
CONFLICT_TEXT = 0.4
CONFLICT_ACTORS = 0.5
STATEMENT_ACTORS = 0.75


def _actor_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard of two key sets where a name word matches another form of it ("dockwork" and
    "work" do not; "dockwork" and "dock" + "work" do, through either)."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    rest_a = [k for k in a - b if not k.startswith("@")]
    rest_b = [k for k in b - a if not k.startswith("@")]
    for x in rest_a:
        if any(len(x) >= 4 and len(y) >= 4 and (x in y or y in x) for y in rest_b):
            shared += 1
    union = len(a | b) - (shared - len(a & b))
    return shared / union if union else 0.0


def _targets_differ(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Both name their targets, by names that neither record's text mentions of the other."""
    if not a.target_names or not b.target_names or a.target_names & b.target_names:
        return False
    return not (a.target_names & b.text) and not (b.target_names & a.text)


def _targets_shared(a: _EventFeatures, b: _EventFeatures) -> bool:
    return bool(a.target_names & b.target_names)


def _values_differ(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Counts of the same thing, for the same day, that cannot both be true."""
    for x in a.observations:
        for y in b.observations:
            if x.kind.same(y.kind) and x.as_of == y.as_of and not _meet(x, y):
                return True
    return False


def _places_differ(a: _EventFeatures, b: _EventFeatures) -> bool:
    return bool(a.location and b.location and not (a.location & b.location))


def _days_differ(a: _EventFeatures, b: _EventFeatures) -> bool:
    if a.ongoing or b.ongoing:
        return False
    both_precise = a.record.date_precision == "day" == b.record.date_precision
    return both_precise and a.day is not None and b.day is not None and a.day != b.day


def _differ(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Do two records give different values for something both state? (Places count within
    one article only: outlets name one place at different scales, "Roman" and "the Siret
    valley", more often than they disagree on it.)"""
    same_source = a.record.source_id == b.record.source_id
    return _values_differ(a, b) or (same_source and _places_differ(a, b)) or _days_differ(a, b)


def _agreement(a: _EventFeatures, b: _EventFeatures) -> float:
    """How much the stated values agree: each count of the same thing that agrees, and a
    shared place, add to a pair's score; a count or place that differs takes from it. Among
    two launches reported by two outlets, each launch pairs with its own."""
    score = 0.0
    for x in a.observations:
        for y in b.observations:
            if x.kind.same(y.kind):
                score += 0.1 if _meet(x, y) else -0.1
    if a.location and b.location:
        score += 0.1 if a.location & b.location else -0.1
    return max(-0.2, min(0.2, score))


def _done_before_announced(coming: _EventFeatures, done: _EventFeatures) -> bool:
    """``coming`` is reported as still to come, ``done`` as done before then: two events ("will
    march again on Saturday" is not Sunday's march). A plan and its doing are one event when
    the doing may follow the plan (within one ongoing event, always)."""
    if coming.record.factuality != "future" or done.record.factuality == "future":
        return False
    if coming.ongoing and done.ongoing:
        return False
    when = coming.day if coming.day is not None else coming.published
    return done.day is not None and when is not None and done.day < when


def _roles_reversed(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Each does to the other what the other does to it (two expulsions, tit for tat)."""
    a_doers, a_targets = a.doer_states, a.target_states
    b_doers, b_targets = b.doer_states, b.target_states
    return bool(a_doers & b_targets) and bool(a_targets & b_doers) and not (a_doers & b_doers)


def _statements_apart(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Things said on different days are different statements, not one dated two ways."""
    verbal = a.record.quad_class.startswith("verbal") and b.record.quad_class.startswith("verbal")
    return verbal and _days_differ(a, b)


def _counts_differ(a: _EventFeatures, b: _EventFeatures) -> int:
    """How many kinds of count the two give values for that cannot both be true."""
    kinds = 0
    for x in a.observations:
        if any(
            x.kind.same(y.kind) and x.as_of == y.as_of and not _meet(x, y) for y in b.observations
        ):
            kinds += 1
    return kinds


def _incompatible(a: _EventFeatures, b: _EventFeatures) -> bool:
    """May the two never be one event, whatever else they share? Different named targets or
    reversed roles; a thing done before it was announced as coming; statements of different
    days; two counts that disagree (outlets disagree on a figure, rarely on two); one article's
    two records that differ on a value."""
    if _targets_differ(a, b) or _roles_reversed(a, b) or _statements_apart(a, b):
        return True
    if _counts_differ(a, b) >= 2:
        return True
    if _done_before_announced(a, b) or _done_before_announced(b, a):
        return True
    return a.record.source_id == b.record.source_id and _differ(a, b)


def _within_window(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Do the two dates meet, each taken as the days it names ("over the weekend" is a week)
    widened by the window?"""
    if a.day is None or b.day is None:
        return True
    slack = max(a.window, b.window)
    return a.day - slack <= b.day + b.span and b.day - slack <= a.day + a.span


def _text_similarity(a: _EventFeatures, b: _EventFeatures) -> float:
    return max(
        _jaccard(a.summary, b.summary),
        _jaccard(a.evidence, b.evidence),
        _jaccard(a.summary, b.evidence),
        _jaccard(a.evidence, b.summary),
    )


def _overlapping_evidence(a: EventRecord, b: EventRecord) -> bool:
    return any(
        x.source_id == y.source_id and x.start < y.end and y.start < x.end
        for x in a.evidence
        for y in b.evidence
    )


def _structural_match(a: _EventFeatures, b: _EventFeatures, actors: float) -> bool:
    """Same type, same day (or one ongoing window), largely the same actors, and a count of the
    same thing or a named target in common: one event told in other words, e.g. "imposed
    sanctions on five North Koreans" and "designated six North Korean nationals" on 12 January."""
    if a.record.type != b.record.type or actors < CONFLICT_ACTORS:
        return False
    if _targets_shared(a, b) and _within_window(a, b):
        return True  # one type, the same actors, the same named target ("Zubr Air")
    if a.day is None or b.day is None:
        return False
    if a.ongoing or b.ongoing:
        same_time = _within_window(a, b)
    else:
        same_time = a.day <= b.day + b.span and b.day <= a.day + a.span  # the spans meet
    if not same_time:
        return False
    if _one_statement(a, b, actors):
        return True
    return any(x.kind.same(y.kind) for x in a.observations for y in b.observations)


def _one_statement(a: _EventFeatures, b: _EventFeatures, actors: float) -> bool:
    """What one party says of one other on one day, in one type (an accusation, a denial), is
    one statement however outlets word it: strongly the same actors, and targets of the same
    states (when both name them)."""
    if not (a.record.quad_class.startswith("verbal") and b.record.quad_class.startswith("verbal")):
        return False
    if a.record.date_precision != "day" or b.record.date_precision != "day" or a.day != b.day:
        return False
    states = [frozenset(k for k in f.done_to if k.startswith("@")) for f in (a, b)]
    if states[0] and states[1] and not (states[0] & states[1]):
        return False
    return actors >= STATEMENT_ACTORS


def _pair_score(a: _EventFeatures, b: _EventFeatures) -> float | None:
    """The similarity when ``a`` and ``b`` are one event under the module's rules, else None."""
    ra, rb = a.record, b.record
    if (ra.factuality == "negated") != (rb.factuality == "negated"):
        return None
    if ra.quad_class != rb.quad_class or _incompatible(a, b) or not _within_window(a, b):
        return None
    # Who acted counts most: outlets name the targets of one act more variously.
    actors = max(_actor_similarity(a.actors, b.actors), _actor_similarity(a.doers, b.doers))
    if actors == 0.0:
        return None
    text = _text_similarity(a, b)
    if ra.source_id == rb.source_id:
        # One sentence often reports two acts ("condemned the measures and threatened a
        # response"): shared evidence makes one event of records of one type only.
        if ra.type != rb.type:
            return None
        if _overlapping_evidence(ra, rb):
            return 1.0
        same = text >= SAME_SOURCE_TEXT and actors >= CONFLICT_ACTORS
        return text if same else None
    if ra.type != rb.type:
        return text if text >= MATCH_TEXT_OTHER_TYPE else None
    structural = _structural_match(a, b, actors)
    if a.ongoing and b.ongoing and actors >= CONFLICT_ACTORS:
        # Two reports of one strike or evacuation share little beyond what goes on.
        threshold = ONGOING_TEXT
    elif a.day is None or b.day is None:
        if actors < CONFLICT_ACTORS:
            return None  # with no date to place it, an undated report needs the same actors
        threshold = UNDATED_TEXT
    else:
        threshold = MATCH_TEXT
    if text < threshold and not structural:
        return None
    if _differ(a, b) and not structural and (text < CONFLICT_TEXT or actors < CONFLICT_ACTORS):
        return None
    return (max(text, CONFLICT_TEXT) if structural else text) + _agreement(a, b)
