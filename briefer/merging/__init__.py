"""Merging, the third stage: the same event or position told by several chunks, outlets and days
becomes one merged record; disagreements are kept as conflicts, changes over days as updates.
"""

from __future__ import annotations

from briefer.merging._merge import MergeResult, merge_records

__all__ = ["MergeResult", "merge_records"]
