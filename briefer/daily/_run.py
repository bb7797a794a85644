"""One scheduled day: brief the day's sources into ``OUT/<day>.*``, list it in the index and the
Atom feed, mail it; or, for a day done already, nothing but what is still owed.

The order is what makes a run safe to repeat. Under the day's lock: the briefing is made (with
the story store, when one is on); nothing is written unless it has something to say; its files
are written one by one, atomically, the JSON last, so the JSON's presence says the day is done;
then the index and the feed (rewritten only when they change); then the mail, whose delivery is
noted in ``OUT/.<day>.mailed``. A run of a day whose JSON is there makes no model call and
rewrites nothing: it only sends a mail not yet sent (and writes a format added to the settings
since, from the JSON). ``force`` runs the day again from its sources.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from briefer._files import write_atomic
from briefer.daily._archive import (
    ATOM_NAME,
    INDEX_NAME,
    SUFFIXES,
    archived_days,
    render_index,
    write_if_changed,
)
from briefer.daily._atom import feed_base, render_atom
from briefer.daily._lock import day_lock
from briefer.daily._mail import MailError, build_message, mail_password, send_message
from briefer.errors import BrieferError, ConfigError, OutputError, StoreError
from briefer.llm import LLMClient
from briefer.models import Briefing, Excluded
from briefer.pipeline import BriefOptions, Progress, brief, nothing_usable, options_from
from briefer.rendering import render
from briefer.settings import DailySettings, Settings, build_client
from briefer.stories import Store
from briefer.text.dates import written_date

__all__ = ["DayReport", "NothingUsableError", "run_day", "update_archive"]


class NothingUsableError(BrieferError):
    """The day's sources gave nothing to brief: nothing was written (exit 1). ``excluded``
    says why each source was left out."""

    def __init__(self, message: str, *, excluded: list[Excluded]) -> None:
        super().__init__(message)
        self.excluded = excluded


@dataclass
class DayReport:
    """What a run of one day did."""

    day: dt.date
    out: Path
    briefing: Briefing  # made by this run, or read back from the day's JSON
    briefed: bool  # made by this run (False: the day was done already)
    written: list[Path] = field(default_factory=list)  # files this run wrote
    mailed_to: list[str] = field(default_factory=list)  # empty: no mail sent by this run
    problems: list[str] = field(default_factory=list)  # what makes it partial besides inputs

    @property
    def excluded(self) -> list[Excluded]:
        """Inputs this run left out (none for a day done already: they were said then)."""
        return self.briefing.excluded if self.briefed else []

    @property
    def exit_code(self) -> int:
        """0 done, 3 partial: an input left out, a failed composition call, the mail not sent
        or the story store not kept."""
        partial = self.problems or any(not item.skipped for item in self.excluded)
        return 3 if partial else 0


def _paths(out: Path, day: dt.date) -> dict[str, Path]:
    return {fmt: out / f"{day.isoformat()}{suffix}" for fmt, suffix in SUFFIXES.items()}


def _mailed_path(out: Path, day: dt.date) -> Path:
    return out / f".{day.isoformat()}.mailed"


def _done(path: Path) -> Briefing | None:
    """The day's briefing, when its JSON is there and reads as one."""
    try:
        return Briefing.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None


def _title(daily: DailySettings, day: dt.date) -> str:
    return f"{daily.title}, {written_date(day)}"


def _options(
    settings: Settings, daily: DailySettings, day: dt.date, store: Store | None
) -> BriefOptions:
    return options_from(
        settings,
        allow_private=daily.allow_private,
        max_bytes=daily.max_bytes,
        window=daily.window,
        allow_summaries=daily.allow_summaries,
        date=day,
        title=_title(daily, day),
        compose=daily.compose,
        store=store,
    )


def _brief(
    settings: Settings,
    daily: DailySettings,
    day: dt.date,
    client: LLMClient | None,
    progress: Progress | None,
    problems: list[str],
) -> Briefing:
    """The day's briefing from its sources, refused when it has nothing to say. A briefing made
    but not kept in the story store is still the day's: the store's error becomes a problem."""
    path = settings.store_path()
    store = Store(path) if path is not None else None  # a store that cannot be used fails first
    try:
        try:
            made = brief(
                daily.sources,
                client=client or build_client(settings),
                options=_options(settings, daily, day, store),
                progress=progress,
            )
        except StoreError as exc:
            if not isinstance(exc.briefing, Briefing):
                raise
            made = exc.briefing
            problems.append(f"the briefing was not kept in the story store: {exc}")
    finally:
        if store is not None:
            store.close()
    if not made.stats.documents:
        raise NothingUsableError(
            "no usable input: every source was excluded; nothing was written",
            excluded=made.excluded,
        )
    problem = nothing_usable(made.stats, len(made.events) + len(made.stances), made.model)
    if problem is not None:
        raise NothingUsableError(f"{problem}; nothing was written", excluded=made.excluded)
    return made


def _write(path: Path, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_day(
    out: Path, day: dt.date, briefing: Briefing, formats: Sequence[str], *, only_missing: bool
) -> list[Path]:
    """The day's files in ``formats``, and its JSON, last: it marks the day done."""
    paths = _paths(out, day)
    wanted = [fmt for fmt in SUFFIXES if fmt in formats and fmt != "json"] + ["json"]
    written = []
    for fmt in wanted:
        if only_missing and paths[fmt].exists():
            continue
        _write(paths[fmt], render(briefing, fmt))  # type: ignore[arg-type]
        written.append(paths[fmt])
    return written


def update_archive(out: Path, daily: DailySettings) -> list[Path]:
    """``OUT/index.html`` and ``OUT/briefings.atom`` from the briefings found in ``out``,
    rewritten only when they change; the files written."""
    days = archived_days(out)
    written = []
    if write_if_changed(out / INDEX_NAME, render_index(days, daily.title)):
        written.append(out / INDEX_NAME)
    atom = render_atom(
        days, title=daily.title, base=feed_base(out, daily.site_url), window=daily.feed_days
    )
    if atom is not None and write_if_changed(out / ATOM_NAME, atom):
        written.append(out / ATOM_NAME)
    return written


def _mail(
    daily: DailySettings,
    out: Path,
    day: dt.date,
    briefing: Briefing,
    password: str | None,
    report: DayReport,
) -> None:
    """Mail the briefing, unless this day's mail went already and the day was not run again."""
    mail = daily.mail
    if mail is None:
        return
    sent = _mailed_path(out, day)
    if not report.briefed and sent.exists():
        return
    message = build_message(
        mail,
        subject=briefing.title,
        text=render(briefing, "markdown"),
        html=render(briefing, "html"),
        day=day,
    )
    try:
        send_message(mail, message, password)
    except MailError as exc:
        again = "run `briefer daily` again to send it" if report.briefed else "it is still owed"
        report.problems.append(f"{exc}; the files are written, {again}")
        return
    report.mailed_to = list(mail.to)
    note = {"to": mail.to, "sent_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    _write(sent, json.dumps(note) + "\n")


def run_day(
    daily: DailySettings,
    settings: Settings,
    *,
    day: dt.date | None = None,
    force: bool = False,
    client: LLMClient | None = None,
    progress: Progress | None = None,
) -> DayReport:
    """Run ``day`` (default: today, local time) as ``daily`` and ``settings`` describe.

    Raises ``DayLockedError`` (another run of the day is under way), ``NothingUsableError`` or
    ``NoRepliesError`` (nothing written, earlier files left as they were), ``ConfigError``
    (settings, a store that cannot be used, a mail password missing: all before any call).
    """
    day = day or dt.date.today()
    if not daily.sources:
        raise ConfigError(
            "daily.sources is empty: name the day's feeds, URLs, folders or files in [daily] "
            "of the config file"
        )
    password = mail_password(daily.mail) if daily.mail is not None else None
    out = daily.out.expanduser()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot make the output folder {out}: {exc.strerror or exc}") from None
    with day_lock(out, day):
        json_path = _paths(out, day)["json"]
        earlier = None if force else _done(json_path)
        if earlier is not None:
            report = DayReport(day, out, earlier, briefed=False)
            report.written = _write_day(out, day, earlier, daily.formats, only_missing=True)
        else:
            problems: list[str] = []
            made = _brief(settings, daily, day, client, progress, problems)
            report = DayReport(day, out, made, briefed=True, problems=problems)
            report.written = _write_day(out, day, made, daily.formats, only_missing=False)
        report.written += update_archive(out, daily)
        _mail(daily, out, day, report.briefing, password, report)
    return report
