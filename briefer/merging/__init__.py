"""Merging, the third stage: the same event or position told by several chunks, outlets and days
becomes one merged record; disagreements are kept as conflicts, changes over days as updates.

Private modules, read top-down: ``_merge`` (the stage's entry, and its rules), ``_blocking``
(candidate pairs), ``_compare`` (may two events be one, and how alike are they), ``_features``
(what an event is compared by), ``_counts`` (what a count counts, its interval and its day),
``_text`` (the words compared), ``_events`` (merged events, conflicts and updates),
``_stances`` (merged positions), ``_outlets`` (corroboration), ``_clusters`` (union-find).
"""

from __future__ import annotations

from briefer.merging._merge import MergeResult, merge_records

__all__ = ["MergeResult", "merge_records"]
