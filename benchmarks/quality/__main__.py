"""``python -m benchmarks.quality [check] [STORY...]``: run or check the evaluation set."""

from __future__ import annotations

import sys

from benchmarks.quality.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
