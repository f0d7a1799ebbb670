"""The GitHub Actions workflows run the project's own commands.

The site workflow runs the README's two commands (`make test`, then `make site`, the
half of `make serve` that does not serve); the release workflow runs `make dist`; the
scheduled one runs the package's tests. How each is configured is not restated here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def _readme_commands() -> list[str]:
    """The commands of the first ```bash block under "## The two commands" in README.md."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## The two commands\n(.*?)(?=^## )", readme, re.M | re.S)
    assert section, "README.md has no section '## The two commands'"
    block = re.search(r"^```bash\n(.*?)^```", section.group(1), re.M | re.S)
    assert block, "no ```bash block in that section"
    lines = (line.split("#")[0].strip() for line in block.group(1).splitlines())
    return [line for line in lines if line]


def _make_prerequisites(target: str) -> list[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rule = re.search(rf"^{re.escape(target)}:([^=\n]*)$", makefile, re.M)
    assert rule, f"the Makefile has no rule for {target}"
    return rule.group(1).split()


def _workflow(name: str) -> dict[Any, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(triggers, dict)
    return triggers


def _runs(workflow: dict[Any, Any]) -> list[list[str]]:
    """The shell commands of every job's `run:` steps, one per line, split into words."""
    return [
        shlex.split(line)
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "run" in step
        for line in step["run"].splitlines()
        if line.strip()
    ]


def test_readme_names_the_two_commands() -> None:
    assert _readme_commands() == ["make serve", "make test"]


def test_serve_builds_the_site_first() -> None:
    # `make site` is the half of `make serve` that does not serve.
    assert "site" in _make_prerequisites("serve")
    assert "setup" in _make_prerequisites("site")


def test_site_workflow_runs_the_readme_commands() -> None:
    commands = [shlex.split(c) for c in _readme_commands()]
    test_command = next(c for c in commands if c[-1] == "test")
    serve_command = next(c for c in commands if c[-1] == "serve")
    site_command = [*serve_command[:-1], "site"]  # make serve -> make site
    runs = _runs(_workflow("site.yml"))
    assert test_command in runs, "the README's test command is not run"
    built = [i for i, run in enumerate(runs) if run[:2] == site_command]
    assert built, f"the site is not built with `{shlex.join(site_command)}`"
    assert runs.index(test_command) < built[0], "the site is built before testing"


def test_release_workflow_runs_make_dist_on_a_tag() -> None:
    workflow = _workflow("release.yml")
    assert "tags" in _triggers(workflow)["push"]
    _make_prerequisites("dist")  # fails unless the Makefile has the target
    assert any(run[:2] == ["make", "dist"] for run in _runs(workflow))


def test_scheduled_workflow_runs_the_package_tests() -> None:
    workflow = _workflow("torch-range.yml")
    assert {"schedule", "workflow_dispatch"} <= set(_triggers(workflow))
    assert any(run[1:3] == ["-m", "pytest"] for run in _runs(workflow))
