"""Two briefings built at once, in threads or as asyncio tasks, equal the same briefings built
one after the other: no module-level state leaks between runs."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reliability.support import REPO, answer_normally, quoting_reply, write_articles

import briefer
from briefer.llm.base import LLMRequest
from briefer.llm.openai import Endpoint, OpenAIClient, forget_json_modes
from briefer.llm.replay import ReplayClient
from briefer.testing import FakeOpenAIServer, FakeReply, FunctionClient

EXAMPLES = REPO / "examples" / "articles"
RECORDINGS = REPO / "examples" / "recordings"
_ARTICLE = re.compile(r"<article>\n?(.*?)\n?</article>", re.S)


def comparable(briefing: briefer.Briefing) -> dict[str, Any]:
    dumped = briefing.model_dump(mode="json")
    dumped.pop("generated_at")
    return dumped


def quoting(request: LLMRequest) -> dict[str, Any]:
    match = _ARTICLE.search(request.messages[-1].content)
    return quoting_reply(match.group(1)) if match else {"items": []}


def replay_run() -> briefer.Briefing:
    return briefer.brief([EXAMPLES], client=ReplayClient(RECORDINGS))


def function_run(folder: Path) -> Callable[[], briefer.Briefing]:
    def run() -> briefer.Briefing:
        options = briefer.BriefOptions(concurrency=3)
        return briefer.brief([folder], client=FunctionClient(quoting), options=options)

    return run


@pytest.fixture
def generated(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "first", tmp_path / "second"
    write_articles(first, 12)
    for path in write_articles(second, 24)[:12]:
        path.unlink()  # a different set of articles
    return first, second


def run_in_threads(jobs: list[Callable[[], briefer.Briefing]]) -> list[briefer.Briefing]:
    results: list[briefer.Briefing | None] = [None] * len(jobs)
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def work(i: int) -> None:
        try:
            start.wait(timeout=10)
            results[i] = jobs[i]()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def test_threads_give_the_results_of_runs_one_after_the_other(
    generated: tuple[Path, Path],
) -> None:
    jobs = [replay_run, function_run(generated[0]), replay_run, function_run(generated[1])]
    one_by_one = [comparable(job()) for job in jobs]
    assert one_by_one[0] == one_by_one[2]
    assert one_by_one[1] != one_by_one[3]
    for _ in range(2):
        at_once = [comparable(b) for b in run_in_threads(jobs)]
        assert at_once == one_by_one


async def test_asyncio_tasks_give_the_results_of_runs_one_after_the_other(
    generated: tuple[Path, Path],
) -> None:
    def options() -> briefer.BriefOptions:
        return briefer.BriefOptions(concurrency=2)

    async def replayed() -> briefer.Briefing:
        return await briefer.abrief([EXAMPLES], client=ReplayClient(RECORDINGS))

    async def generated_run(folder: Path) -> briefer.Briefing:
        return await briefer.abrief([folder], client=FunctionClient(quoting), options=options())

    one_by_one = [
        comparable(await replayed()),
        comparable(await generated_run(generated[0])),
        comparable(await generated_run(generated[1])),
    ]
    at_once = await asyncio.gather(
        replayed(), generated_run(generated[0]), generated_run(generated[1]), replayed()
    )
    assert [comparable(b) for b in at_once] == [*one_by_one, one_by_one[0]]
    assert one_by_one[0]["events"] and one_by_one[1]["events"] and one_by_one[2]["events"]


def test_json_mode_memory_of_one_server_does_not_change_results_from_another(
    generated: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``OpenAIClient`` remembers, per base URL and process, that a server rejects json_schema;
    a briefing from such a server, built at the same time as one from a server that takes it,
    has the same content."""

    def strict_only_rejects(body: dict[str, Any]) -> FakeReply:
        if (body.get("response_format") or {}).get("type") == "json_schema":
            return FakeReply.rejects_json_schema()
        return answer_normally(body)

    forget_json_modes()
    try:
        with (
            FakeOpenAIServer(strict_only_rejects) as old,
            FakeOpenAIServer(answer_normally) as new,
        ):

            async def both() -> list[briefer.Briefing]:
                clients = [
                    OpenAIClient(endpoint=Endpoint(base_url=server.base_url, api_key_env="KEY"))
                    for server in (old, new)
                ]
                options = briefer.BriefOptions(concurrency=3)
                runs = [briefer.abrief([generated[0]], client=c, options=options) for c in clients]
                return list(await asyncio.gather(*runs))

            monkeypatch.setenv("KEY", "sk-dummy-modes")
            from_old, from_new = asyncio.run(both())
            modes_old = {r.body["response_format"]["type"] for r in old.requests}
            modes_new = {r.body["response_format"]["type"] for r in new.requests}
    finally:
        forget_json_modes()
    assert modes_old == {"json_schema", "json_object"} and modes_new == {"json_schema"}
    content_old, content_new = comparable(from_old), comparable(from_new)
    for dumped in (content_old, content_new):
        dumped.pop("usage")  # the schema travels in the prompt in json_object mode: more tokens
    assert content_old == content_new
    assert content_old["events"]
