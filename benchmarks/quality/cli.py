"""Command line of the quality evaluation."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from benchmarks.quality.evalset import STORIES, check_story, load_stories, load_story

__all__ = ["main"]


def _check(names: Sequence[str]) -> int:
    stories = [load_story(Path(n)) if Path(n).is_dir() else None for n in names]
    if not names:
        chosen = load_stories()
    else:
        chosen = [s for s in stories if s is not None] + load_stories(
            [n for n, s in zip(names, stories, strict=True) if s is None]
        )
    bad = 0
    for story in chosen:
        problems = check_story(story)
        status = "ok" if not problems else f"{len(problems)} problem(s)"
        print(f"{story.name}: {status}")
        for problem in problems:
            print(f"  - {problem}")
        bad += bool(problems)
    print(f"{len(chosen)} stories checked in {STORIES}, {bad} with problems")
    return 1 if bad else 0


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "check"])
    parser.add_argument("stories", nargs="*", help="story folder names (default: all)")
    args = parser.parse_args(argv)
    if args.command == "check":
        return _check(args.stories)
    from benchmarks.quality.harness import run_main

    return run_main(args.stories)
