"""The day's run, for a schedule (cron, a systemd timer): ``briefer daily``.

``run_day(daily, settings)`` briefs the day's sources (``DailySettings``, the config file's
``[daily]`` table) into ``OUT/<day>.{md,html,json}``, lists the briefings of ``OUT`` in
``OUT/index.html`` and ``OUT/briefings.atom``, and mails the day's briefing when
``[daily.mail]`` says where. One run of a day at a time (``OUT/.<day>.lock``); a day done
already is not run again, and its mail is not sent again, unless ``force``::

    daily, _ = resolve_daily_settings(config_file=Path("daily.toml"))
    settings = load_settings(config_file=Path("daily.toml"))
    report = run_day(daily, settings)          # DayReport: written, mailed_to, exit_code

Private modules: ``_run`` (the day, in the order that makes it safe to repeat), ``_lock`` (the
day's lock), ``_archive`` (the folder of briefings and its index page), ``_atom`` (the feed),
``_mail`` (the message and its delivery). See ``docs/daily.md``.
"""

from __future__ import annotations

from briefer.daily._lock import DayLockedError
from briefer.daily._mail import MailError
from briefer.daily._run import DayReport, NothingUsableError, run_day, update_archive

__all__ = [
    "DayLockedError",
    "DayReport",
    "MailError",
    "NothingUsableError",
    "run_day",
    "update_archive",
]
