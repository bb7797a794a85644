"""The built wheel carries prompts and schemas and works from any directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_wheel_installs_and_runs_from_elsewhere(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheels = list(dist.glob("briefer-*.whl"))
    assert len(wheels) == 1
    import zipfile

    names = zipfile.ZipFile(wheels[0]).namelist()
    assert any(n.startswith("briefer/prompts/") for n in names), names
    assert "briefer/schemas/briefing.schema.json" in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", str(wheels[0])],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run(
        [str(env_dir / "bin" / "briefer"), "schema", "briefing"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    schema = json.loads(run.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["title"] == "Briefing"
    help_run = subprocess.run(
        [str(env_dir / "bin" / "briefer"), "--help"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "brief" in help_run.stdout
    estimate = subprocess.run(
        [
            str(env_dir / "bin" / "briefer"),
            "estimate",
            str(ROOT / "examples" / "articles"),
            "--json",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=env,
    )
    assert estimate.returncode == 0, estimate.stderr
    assert len(json.loads(estimate.stdout)["documents"]) >= 4

    # The README's main command, on the installed wheel, offline and with no key.
    main_job = subprocess.run(
        [
            str(env_dir / "bin" / "briefer"),
            "brief",
            "examples/articles",
            "--replay",
            "examples/recordings",
            "-o",
            str(elsewhere / "briefing.md"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert main_job.returncode == 0, main_job.stderr
    assert "Where sources disagree" in (elsewhere / "briefing.md").read_text(encoding="utf-8")
