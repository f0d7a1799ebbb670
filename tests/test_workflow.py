"""The GitHub Actions workflow runs the README's commands: `make test`, then `make site`."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"


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


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _runs(job: dict[str, Any]) -> list[str]:
    """The shell commands of a job's `run:` steps, one per line."""
    return [
        line.strip()
        for step in job["steps"]
        if "run" in step
        for line in step["run"].splitlines()
        if line.strip()
    ]


def _uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


def test_readme_names_the_two_commands() -> None:
    assert _readme_commands() == ["make serve", "make test"]


def test_serve_builds_the_site_first() -> None:
    # `make site` is the half of `make serve` that does not serve.
    assert "site" in _make_prerequisites("serve")
    assert "setup" in _make_prerequisites("site")


def test_workflow_runs_on_push_to_main_and_by_hand(workflow: dict[Any, Any]) -> None:
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in triggers


def test_workflow_runs_the_readme_commands(workflow: dict[Any, Any]) -> None:
    commands = _readme_commands()
    test_command = next(c for c in commands if c.split()[-1] == "test")
    serve_command = next(c for c in commands if c.split()[-1] == "serve")
    site_command = serve_command.rsplit(" ", 1)[0] + " site"  # make serve -> make site
    build = workflow["jobs"]["build"]
    assert build["runs-on"] == "ubuntu-latest"
    # GitHub fills in the ${{ ... }} expressions before the shell reads the line.
    runs = [re.sub(r"\$\{\{\s*(.*?)\s*\}\}", r"<\1>", run) for run in _runs(build)]
    assert test_command in runs, "the README's test command is not run"
    built = [run for run in runs if shlex.split(run)[:2] == shlex.split(site_command)]
    assert len(built) == 1, f"the site is not built with `{site_command}`: {runs}"
    assert runs.index(test_command) < runs.index(built[0]), "the site is built before testing"
    # The site is built for its GitHub Pages address, through the Makefile's one setting.
    settings = dict(arg.split("=", 1) for arg in shlex.split(built[0])[2:])
    assert settings == {
        "SITE_URL": "https://<github.repository_owner>.github.io/<github.event.repository.name>/"
    }
    assert re.search(r"^SITE_URL \?=", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)


def test_workflow_runs_on_debian_and_uploads_the_site(workflow: dict[Any, Any]) -> None:
    build = workflow["jobs"]["build"]
    # Debian, as the README says: its chromium package is the browser the tests drive.
    assert re.fullmatch(r"python:3\.1[0-9]-(bookworm|trixie)", build["container"])
    assert _uses(build) == ["actions/checkout", "actions/upload-pages-artifact"]
    upload = build["steps"][-1]
    assert upload["uses"].startswith("actions/upload-pages-artifact")
    assert upload["with"]["path"].rstrip("/") == "site"


def test_workflow_deploys_to_pages(workflow: dict[Any, Any]) -> None:
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert _uses(deploy) == ["actions/deploy-pages"]
    assert _runs(deploy) == []
