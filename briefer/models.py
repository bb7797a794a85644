"""The record contract: every stage talks to the next through these models.

Stored records (``EventRecord``, ``StanceRecord``, ``Briefing``…) are rich and built in code.
The LLM-facing models (``Extraction*``, ``Compose*``) are small and strict: every field required,
no defaults, no formats, so they pass OpenAI's strict Structured Outputs rules. Codes that follow
from a value (``quad_class`` from ``type``) are computed here, never asked of the model.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from briefer.llm.usage import StageUsage, Usage  # counted by the model-call layer

__all__ = [
    "EVENT_TYPES",
    "QUAD_CLASS",
    "SCHEMA_VERSION",
    "Actor",
    "ActorKind",
    "Briefing",
    "BriefingItem",
    "Chunk",
    "ComposeItem",
    "ComposeReply",
    "ComposeSentence",
    "Conflict",
    "ConflictValue",
    "DatePrecision",
    "Document",
    "EventRecord",
    "EventType",
    "Evidence",
    "Excluded",
    "ExtractedActor",
    "ExtractedEvent",
    "ExtractedQuantity",
    "ExtractedStance",
    "ExtractionReply",
    "Factuality",
    "MergedEvent",
    "MergedStance",
    "Polarity",
    "PositionChange",
    "QuadClass",
    "Quantity",
    "QuoteType",
    "Source",
    "StageUsage",
    "StanceRecord",
    "Stats",
    "StoryChange",
    "StoryDay",
    "StoryStatus",
    "StorySummary",
    "StoryTimeline",
    "Update",
    "UpdateValue",
    "Usage",
]

SCHEMA_VERSION = "1.3"

EventType = Literal[
    "AGREE",
    "CONSULT",
    "SUPPORT",
    "CONCEDE",
    "COOPERATE",
    "AID",
    "RETREAT",
    "REQUEST",
    "ACCUSE",
    "REJECT",
    "THREATEN",
    "PROTEST",
    "SANCTION",
    "MOBILIZE",
    "COERCE",
    "ASSAULT",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]

QuadClass = Literal[
    "verbal_cooperation", "material_cooperation", "verbal_conflict", "material_conflict"
]
# POLECAT's quad classes follow from the event type alone.
QUAD_CLASS: dict[str, QuadClass] = {
    "AGREE": "verbal_cooperation",
    "CONSULT": "verbal_cooperation",
    "SUPPORT": "verbal_cooperation",
    "CONCEDE": "material_cooperation",
    "COOPERATE": "material_cooperation",
    "AID": "material_cooperation",
    "RETREAT": "material_cooperation",
    "REQUEST": "verbal_conflict",
    "ACCUSE": "verbal_conflict",
    "REJECT": "verbal_conflict",
    "THREATEN": "verbal_conflict",
    "PROTEST": "verbal_conflict",
    "SANCTION": "material_conflict",
    "MOBILIZE": "material_conflict",
    "COERCE": "material_conflict",
    "ASSAULT": "material_conflict",
}

ActorKind = Literal[
    "government",
    "military",
    "international_organization",
    "party",
    "person",
    "business",
    "media",
    "civil_society",
    "other",
]
Factuality = Literal["asserted", "future", "hypothetical", "negated", "historical"]
DatePrecision = Literal["day", "week", "month", "year", "unknown"]
Polarity = Literal["favor", "against", "neutral"]
QuoteType = Literal["direct", "indirect"]

_frozen = ConfigDict(extra="forbid", frozen=True)
_strict = ConfigDict(extra="forbid")


# --- sources ----------------------------------------------------------------------------------


class Source(BaseModel):
    """Where a document came from. ``id`` is derived from the text, so it is stable."""

    model_config = _frozen

    id: str = Field(description="Stable id from the document text, e.g. 'src-1a2b3c4d5e6f'.")
    title: str | None
    url: str | None
    path: str | None
    outlet: str | None
    published: dt.date | None
    published_text: str | None = Field(
        default=None,
        description=(
            "The publication date as a header or dateline wrote it when it gave no year "
            "(e.g. 'Jan. 20'); the run supplies the year from the other articles or the "
            "briefing date."
        ),
    )
    sha256: str = Field(description="sha256 of the text, hex.")
    tokens: int = Field(ge=0)
    chars: int = Field(ge=0)
    feed: str | None = Field(
        default=None,
        description=(
            "The feed (RSS, Atom or RDF; as given, or as an OPML file listed it) whose entry "
            "led to this source; null for a source given directly."
        ),
    )
    from_summary: bool = Field(
        default=False,
        description=(
            "True when the text is the feed entry's summary rather than the page: the page was "
            "a snippet, a paywall or a consent wall, and summaries were allowed."
        ),
    )


class Document(BaseModel):
    """A source and its text, kept exactly as extracted: every offset points into ``text``."""

    model_config = _frozen

    source: Source
    text: str

    @property
    def id(self) -> str:
        return self.source.id


class Chunk(BaseModel):
    """A slice of a document; ``doc.text[start:end] == text``."""

    model_config = _frozen

    id: str
    source_id: str
    index: int = Field(ge=0)
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    tokens: int = Field(ge=0)


class Excluded(BaseModel):
    """An input, or a part of one, that could not be used, and why.

    ``skipped`` marks what was passed over rather than lost: a file inside a folder that is no
    article (a picture, an empty note, a copy of one already read). A skipped entry is a note;
    the others make a result partial.
    """

    model_config = _frozen

    input: str
    reason: str
    stage: Literal["ingest", "extract", "compose"] = "ingest"
    skipped: bool = Field(
        default=False,
        description=(
            "True for a file inside a folder that was passed over with a note: no article "
            "(another type of file, empty, binary) or a copy of a text already read. False for "
            "an input that was meant to be used and could not be."
        ),
    )


# --- records ----------------------------------------------------------------------------------


class Evidence(BaseModel):
    """A verbatim quote and where it stands: ``source.text[start:end]`` is the quote."""

    model_config = _frozen

    source_id: str
    quote: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Actor(BaseModel):
    model_config = _frozen

    name: str = Field(description="As written in the article.")
    canonical: str
    country: str | None = Field(description="ISO 3166-1 alpha-3, or null.")
    kind: ActorKind


class Quantity(BaseModel):
    model_config = _frozen

    kind: str = Field(description="What is counted, e.g. 'people sanctioned'.")
    value: float
    text: str = Field(description="The words that give the number, e.g. 'five North Koreans'.")
    date: dt.date | None = Field(
        default=None, description="The day the figure holds for, when its words give one."
    )


class EventRecord(BaseModel):
    model_config = _frozen

    id: str
    type: EventType
    summary: str
    actors: list[Actor] = Field(min_length=1)
    targets: list[Actor]
    date: dt.date | None
    date_text: str | None
    date_precision: DatePrecision
    location: str | None
    quantities: list[Quantity]
    factuality: Factuality
    evidence: list[Evidence] = Field(min_length=1)
    confidence: float = Field(ge=0, le=1)
    source_id: str
    grounded: bool = True

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: Any) -> Any:
        # quad_class is written out for readers but always recomputed from the type.
        if isinstance(data, dict) and "quad_class" in data:
            data = {k: v for k, v in data.items() if k != "quad_class"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def quad_class(self) -> QuadClass:
        return QUAD_CLASS[self.type]


class StanceRecord(BaseModel):
    model_config = _frozen

    id: str
    holder: Actor
    topic: str
    target: str | None
    polarity: Polarity
    quote_type: QuoteType
    claim: str
    evidence: list[Evidence] = Field(min_length=1)
    date: dt.date | None
    source_id: str
    grounded: bool = True


class ConflictValue(BaseModel):
    model_config = _frozen

    value: float | str
    source_ids: list[str]
    text: str | None = Field(
        default=None, description="The words of an article giving the value, when it is a count."
    )
    side: int = Field(
        default=0,
        description=(
            "Values on one side can all be true together ('at least 10,000' and 'more than "
            "12,000'); each side disagrees with every other."
        ),
    )


class Conflict(BaseModel):
    """Members of one event disagree on ``field`` at one time; each value keeps its sources."""

    model_config = _frozen

    field: str
    values: list[ConflictValue] = Field(min_length=2)
    as_of: dt.date | None = Field(
        default=None, description="The day the disagreeing values hold for, when they change."
    )


class UpdateValue(BaseModel):
    model_config = _frozen

    value: float
    date: dt.date = Field(description="The day the value held (as given, else as published).")
    source_ids: list[str]
    text: str | None = None


class Update(BaseModel):
    """A value of one event that changed over time: each value with the day it held."""

    model_config = _frozen

    field: str
    values: list[UpdateValue] = Field(min_length=2, description="In order of date.")


StoryStatus = Literal["new", "updated", "continuing"]


class StoryChange(BaseModel):
    """What a day brought to a story seen on an earlier day.

    ``figure``: a value of ``field`` went from ``before`` (on ``before_date``) to ``after`` (on
    ``after_date``), both as the articles write them; ``outlet``: an outlet reports it for the
    first time; ``stance``: a holder takes a position on it for the first time;
    ``conflict_opened`` / ``conflict_settled``: outlets began or stopped disagreeing on
    ``field``. ``source_ids`` are the sources of this run that bring the change.
    """

    model_config = _frozen

    kind: Literal["figure", "outlet", "stance", "conflict_opened", "conflict_settled"]
    field: str | None = None
    before: str | None = None
    after: str | None = None
    before_date: dt.date | None = None
    after_date: dt.date | None = None
    outlet: str | None = None
    holder: str | None = None
    source_ids: list[str] = Field(default_factory=list)


class MergedEvent(EventRecord):
    """One event as reported by one or more chunks and outlets, on one or more days."""

    members: list[str] = Field(min_length=1, description="Ids of the merged EventRecords.")
    source_ids: list[str]
    corroboration: int = Field(ge=1, description="Distinct outlets (syndicated copies once).")
    conflicts: list[Conflict]
    updates: list[Update] = Field(default_factory=list)
    ongoing: bool = Field(
        default=False, description="A strike, siege, talks...: reported as going on over days."
    )
    story_id: str | None = Field(
        default=None, description="The stored story this event belongs to, when a store is used."
    )
    status: StoryStatus | None = Field(
        default=None,
        description="Against the store's earlier days: new, updated (see changes) or continuing; "
        "null without a store.",
    )
    changes: list[StoryChange] = Field(default_factory=list)
    first_seen: dt.date | None = Field(
        default=None, description="The first day the story was briefed, when a store is used."
    )


class PositionChange(BaseModel):
    """An earlier position of the same holder on the same question."""

    model_config = _frozen

    stance_id: str = Field(description="The merged stance that held the earlier position.")
    polarity: Polarity
    date: dt.date | None


class MergedStance(StanceRecord):
    """One position of one holder, with every occurrence's evidence."""

    members: list[str] = Field(min_length=1)
    source_ids: list[str]
    changed_from: list[PositionChange] = Field(
        default_factory=list,
        description="Earlier, different positions of this holder on this question.",
    )


# --- briefing ---------------------------------------------------------------------------------


class BriefingItem(BaseModel):
    model_config = _frozen

    section: Literal["since", "top", "disagreements", "stances", "timeline"]
    headline: str
    text: str
    sentences: list[str] = Field(description="The text split in sentences, in order.")
    sentence_citations: list[list[str]] = Field(
        description="For each sentence, the record ids it rests on."
    )
    citations: list[str] = Field(description="Every record id the item cites, in order.")
    composer: Literal["llm", "deterministic"]


class Stats(BaseModel):
    """Counts a reader can check the run by (no timings, so a replayed briefing is stable)."""

    model_config = ConfigDict(extra="forbid")

    documents: int = 0
    chunks: int = 0
    quotes: int = 0
    quotes_grounded: int = 0
    records: int = 0
    records_grounded: int = 0
    records_dropped: int = 0

    def add(self, other: Stats) -> None:
        for name in Stats.model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def grounded_share(self) -> float:
        return self.records_grounded / self.records if self.records else 1.0


class Briefing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    date: dt.date
    title: str
    generated_at: dt.datetime
    model: str
    composer: Literal["llm", "deterministic"]
    items: list[BriefingItem]
    events: list[MergedEvent]
    stances: list[MergedStance]
    sources: list[Source]
    excluded: list[Excluded]
    usage: Usage
    stats: Stats = Field(default_factory=Stats)
    notes: list[str] = Field(default_factory=list, description="What the reader should know.")
    previous: dt.date | None = Field(
        default=None,
        description="The day of the last stored briefing the statuses are counted from.",
    )
    period_start: dt.date | None = Field(
        default=None,
        description="A review's first day (a briefing of several days, from the store).",
    )


# --- stories across days ------------------------------------------------------------------


class StoryDay(BaseModel):
    """One day of a stored story: its status that day, what changed, and the story's event as
    that day's articles told it (its evidence is that day's)."""

    model_config = ConfigDict(extra="forbid")

    day: dt.date
    status: StoryStatus
    changes: list[StoryChange] = Field(default_factory=list)
    event: MergedEvent


class StorySummary(BaseModel):
    """A line of ``briefer stories``."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    first_day: dt.date
    last_day: dt.date
    days: int = Field(ge=1, description="Days on which articles reported it.")
    outlets: list[str]
    open_conflicts: int = Field(ge=0)
    last_change: str | None = Field(default=None, description="The latest change, in words.")


class StoryTimeline(BaseModel):
    """A stored story day by day (``briefer story ID``), with the sources its days cite."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    summary: StorySummary
    days: list[StoryDay]
    stances: list[MergedStance] = Field(default_factory=list)
    sources: list[Source]


# --- LLM-facing (strict) ----------------------------------------------------------------------


class ExtractedActor(BaseModel):
    model_config = _strict

    name: str = Field(description="The actor as written in the article.")
    canonical: str = Field(description="Full standard name, e.g. 'North Korea' for 'Pyongyang'.")
    country: str | None = Field(description="ISO 3166-1 alpha-3 code, or null.")
    kind: ActorKind


class ExtractedQuantity(BaseModel):
    model_config = _strict

    kind: str = Field(description="What is counted, e.g. 'people sanctioned'.")
    value: float
    text: str = Field(description="The exact words giving the number.")


class ExtractedEvent(BaseModel):
    model_config = _strict

    type: EventType
    summary: str = Field(description="One sentence.")
    actors: list[ExtractedActor] = Field(min_length=1, description="Who acted: at least one.")
    targets: list[ExtractedActor]
    date_text: str | None = Field(description="The date words as written, e.g. 'Wednesday'.")
    location: str | None
    quantities: list[ExtractedQuantity]
    factuality: Factuality
    quotes: list[str] = Field(
        min_length=1, description="Verbatim spans of the article supporting the event."
    )
    confidence: float = Field(description="0 to 1.")


class ExtractedStance(BaseModel):
    model_config = _strict

    holder: ExtractedActor
    topic: str
    target: str | None
    polarity: Polarity
    quote_type: QuoteType
    claim: str = Field(description="Short paraphrase of the position.")
    quotes: list[str] = Field(
        min_length=1, description="Verbatim spans of the article giving the position."
    )


class ExtractionReply(BaseModel):
    """What one extraction call returns for one chunk."""

    model_config = _strict

    events: list[ExtractedEvent]
    stances: list[ExtractedStance]


class ComposeSentence(BaseModel):
    model_config = _strict

    text: str
    citations: list[str] = Field(description="Ids of the records this sentence rests on.")


class ComposeItem(BaseModel):
    model_config = _strict

    headline: str
    sentences: list[ComposeSentence]


class ComposeReply(BaseModel):
    """What the composition call returns."""

    model_config = _strict

    items: list[ComposeItem]


@functools.cache
def _reply_schema_text(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema(mode="validation"), ensure_ascii=False)


def reply_schema(model: type[ExtractionReply] | type[ComposeReply]) -> dict[str, Any]:
    """A fresh copy of the strict JSON Schema a reply is asked in (generated once per process:
    it takes milliseconds, and every request carries one)."""
    schema: dict[str, Any] = json.loads(_reply_schema_text(model))
    return schema
