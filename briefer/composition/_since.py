"""What changed since the last briefing: the "since" section that leads a briefing made with a
store, and the sentences a stored story's days are told in.

An event of a run with a store is ``new``, ``updated`` (with the changes the day brought) or
``continuing`` (reported again, with nothing new). The section gives one item per new or
updated event, most important first (an updated event's item says what changed, in sentences
checked like any other), then one compact item listing the continuing stories, each sentence
citing its story's event. Without a store no event has a status and there is no section.
"""

from __future__ import annotations

from collections.abc import Sequence

from briefer.composition._sentences import Told, _Writer
from briefer.composition._wording import _item, _line, rank_events
from briefer.models import BriefingItem, MergedEvent, MergedStance, Source, StoryDay

__all__ = ["CONTINUING", "continuing_events", "since_items", "story_day_sentences"]

# The headline of the compact item listing the stories reported again with nothing new.
CONTINUING = "Continuing"


def continuing_events(events: Sequence[MergedEvent]) -> list[MergedEvent]:
    return [e for e in events if e.status == "continuing"]


def since_items(
    writer: _Writer,
    events: Sequence[MergedEvent],
    stances: Sequence[MergedStance],
    *,
    only_new: bool = False,
) -> list[BriefingItem]:
    """The "since" section: nothing when no event has a status (no store was used)."""
    if not any(e.status for e in events):
        return []
    ranked = rank_events(events)
    items = [_since_item(writer, e, stances) for e in ranked if e.status in ("new", "updated")]
    continuing = continuing_events(ranked)
    if continuing and not only_new:
        # One line: each story by its headline, citing its event.
        sentences = [(_line(writer.event_headline(e)), [e.id]) for e in continuing]
        items.append(_item("since", CONTINUING, sentences, "deterministic"))
    return items


def _since_item(
    writer: _Writer, event: MergedEvent, stances: Sequence[MergedStance]
) -> BriefingItem:
    """A new event: who reported it (the top developments tell it in full). An updated one:
    what changed."""
    told: list[Told] = []
    if event.status == "updated":
        told = writer.changes(event, event.changes, stances)
    if not told:
        told = [(writer.reported_by(event), [event])]
    sentences = [(text, [r.id for r in records]) for text, records in told]
    return _item("since", writer.event_headline(event), sentences, "deterministic")


def story_day_sentences(
    day: StoryDay,
    earlier: Sequence[StoryDay],
    stances: Sequence[MergedStance],
    sources: Sequence[Source],
) -> list[Told]:
    """A stored story's day in sentences, each with the records it rests on: the story's event
    as that day's articles told it, what the day changed (an updated day; a figure it changed
    from rests on the earlier day that gave it too), and who reported it that day."""
    writer = _Writer({s.id: s for s in sources})
    event = day.event
    told: list[Told] = [(writer.wording(event), [event])]
    if day.status == "updated":
        told += writer.changes(event, day.changes, stances, [d.event for d in earlier])
    told.append((writer.reported_by(event), [event]))
    return told
