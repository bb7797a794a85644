"""Fit the completion-token rule ``briefer.llm.pricing`` estimates with, on the evaluation set.

    .venv/bin/python scripts/measure_completion_rule.py

A reply's tokens cannot be known before the model answers; ``briefer estimate`` and the budget
of a run (``--max-cost``) estimate them as ``COMPLETION_BASE + COMPLETION_PER_INPUT_TOKEN × the
tokens of the request's user message``. This prints the least-squares line through the
evaluation set's extraction replies (written as a careful model answers), the spread around it,
and the mean composition reply, next to the constants in use.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from briefer.llm import pricing
from briefer.llm.tokens import count_tokens

STORIES = Path(__file__).resolve().parents[1] / "evals" / "stories"


def main() -> None:
    pairs: list[tuple[int, int]] = []
    composes: list[int] = []
    for story in sorted(STORIES.iterdir()):
        for reply in sorted((story / "replies").glob("*.json")):
            tokens = count_tokens(json.dumps(json.loads(reply.read_text("utf-8"))))
            if reply.stem == "compose":
                composes.append(tokens)
                continue
            articles = list((story / "articles").glob(reply.stem + ".*"))
            if articles:
                pairs.append((count_tokens(articles[0].read_text("utf-8")), tokens))
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    slope, intercept = statistics.linear_regression(xs, ys)
    ratios = sorted(
        y / (pricing.COMPLETION_BASE + pricing.COMPLETION_PER_INPUT_TOKEN * x) for x, y in pairs
    )
    print(f"{len(pairs)} extraction replies: completion ≈ {intercept:.0f} + {slope:.2f} × input")
    print(
        f"in use: {pricing.COMPLETION_BASE} + {pricing.COMPLETION_PER_INPUT_TOKEN} × input; "
        f"actual / estimate: median {statistics.median(ratios):.2f}, "
        f"max {ratios[-1]:.2f}, min {ratios[0]:.2f}"
    )
    if composes:
        print(
            f"{len(composes)} composition replies: mean {statistics.mean(composes):.0f} tokens, "
            f"max {max(composes)}; in use: {pricing.COMPOSE_COMPLETION}"
        )


if __name__ == "__main__":
    main()
