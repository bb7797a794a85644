"""The quality evaluation, replayed: every story of ``evals/`` through the real pipeline, its
figures held to the targets (see ``docs/quality.md``). A change that makes briefer wrong on
material it was not written for fails here."""

from __future__ import annotations

import pytest

from benchmarks.quality.days import load_day_stories
from benchmarks.quality.days_score import DAY_TARGETS, DaysEvaluation, evaluate_days, open_store
from benchmarks.quality.evalset import ADVERSARIAL, CAREFUL, TAGS, check_story, load_stories
from benchmarks.quality.harness import TARGETS, Evaluation, evaluate

MIN_STORIES = 15
MIN_ARTICLES = 40


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    return evaluate(load_stories())


def test_the_set_is_whole_and_valid() -> None:
    stories = load_stories()
    assert len(stories) >= MIN_STORIES
    assert sum(len(s.articles) for s in stories) >= MIN_ARTICLES
    problems = [f"{s.name}: {p}" for s in stories for p in check_story(s)]
    assert problems == []
    # Every case the set is there to test is covered at least twice.
    covered = [tag for s in stories for tag in s.gold.get("covers", [])]
    assert {tag: covered.count(tag) for tag in TAGS if covered.count(tag) < 2} == {}


@pytest.mark.parametrize("reply_set", [CAREFUL, ADVERSARIAL])
@pytest.mark.parametrize("figure", sorted(TARGETS))
def test_figure_meets_its_target(evaluation: Evaluation, reply_set: str, figure: str) -> None:
    target, higher = TARGETS[figure]
    value = evaluation.overall[reply_set].value(figure)
    assert value is not None, f"{figure} was not measured on the {reply_set} set"
    mistakes = "\n".join(evaluation.overall[reply_set].mistakes[:40])
    if higher:
        assert value >= target, f"{figure} = {value:.3f} < {target}\n{mistakes}"
    else:
        assert value <= target, f"{figure} = {value:.3f} > {target}\n{mistakes}"


def test_the_adversarial_set_has_mistakes_to_catch(evaluation: Evaluation) -> None:
    # Figures of 0 invented records mean something only if the replies try to invent some.
    stories = load_stories()
    traps = [
        entry
        for s in stories
        for section in ("events", "stances")
        for entry in s.gold.get("adversarial", {}).get(section, {}).values()
        if {"drop", "bad_quantity", "bad_actor", "wrong_polarity"} & set(entry)
    ]
    unsupported = [
        sentence
        for s in stories
        for sentence in s.gold.get("adversarial", {}).get("compose_unsupported", [])
    ]
    assert len(traps) >= 40 and len(unsupported) >= 30


# --- stories across days ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def days() -> DaysEvaluation:
    store, why = open_store()
    assert store is not None, why
    return evaluate_days(load_day_stories(), store, why)


@pytest.mark.parametrize("figure", sorted(DAY_TARGETS))
def test_day_figure_meets_its_target(days: DaysEvaluation, figure: str) -> None:
    target, higher = DAY_TARGETS[figure]
    value = days.overall.value(figure)
    assert value is not None, f"{figure} was not measured on the multi-day stories"
    mistakes = "\n".join(days.overall.mistakes[:40])
    assert (value >= target) if higher else (value <= target), f"{figure} = {value:.3f}\n{mistakes}"


def test_the_multi_day_set_is_whole() -> None:
    stories = load_day_stories()
    assert len(stories) >= 5
    assert all(len(s.days) >= 3 for s in stories)
