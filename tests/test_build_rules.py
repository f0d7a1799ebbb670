"""Rules the site build enforces on every page, proven by building pages that break them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import notebooks

ROOT = Path(__file__).resolve().parents[1]

CONFIG = f"""\
site_name: rules
docs_dir: docs
site_dir: site
theme:
  name: material
  language: en
extra:
  alternate:
    - {{name: English, link: ../en/, lang: en}}
hooks:
  - {ROOT / "tools" / "mkdocs_hooks.py"}
plugins:
  - markdown-exec
markdown_extensions:
  - tables
  - pymdownx.superfences
"""

# An annotation page's check, printed as a table at build (as torch/sgd.md does).
PAGE = """\
# A check

```python exec="on"
print("| settings | largest difference |\\n|---|---|")
print(f"| {{'lr': 0.1}} | {VALUE:.1e} |")
```
"""


def _build(tmp_path: Path, value: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(PAGE.replace("VALUE", value), encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
    env = dict(os.environ, LINREG_EXECUTE="0", NO_MKDOCS_2_WARNING="1")
    command = [sys.executable, "-m", "mkdocs", "build", "-q"]
    return subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
@pytest.mark.parametrize("value", ["float('nan')", "float('inf')", "-float('inf')"])
def test_a_page_whose_check_table_shows_nan_or_inf_fails_the_build(
    tmp_path: Path, value: str
) -> None:
    result = _build(tmp_path, value)
    assert result.returncode != 0
    assert "a table shows" in result.stderr
    assert "must be finite" in result.stderr


@pytest.mark.slow
def test_the_same_page_with_a_finite_number_builds(tmp_path: Path) -> None:
    result = _build(tmp_path, "2.2e-16")
    assert result.returncode == 0, result.stderr
    assert "2.2e-16" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def _cell(kind: str, source: str, tags: list[str], outputs: list[dict] | None = None) -> dict:
    if kind == "markdown":
        return nbformat.v4.new_markdown_cell(source, metadata={"tags": tags})
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": tags})
    cell.outputs = [nbformat.from_dict(o) for o in outputs or []]
    return cell


def test_solution_cells_are_folded_into_one_collapsible_block() -> None:
    stdout = {"output_type": "stream", "name": "stdout", "text": "0.03\n"}
    notebook = nbformat.v4.new_notebook(
        cells=[
            _cell("markdown", "## Exercises\n\n1. Which lr?", []),
            _cell("markdown", "Scale it by $N$:", ["solution"]),
            _cell("code", "print(0.01 * 3)", ["solution"], [stdout]),
            _cell("markdown", "2. Next exercise.", []),
            _cell("code", "print(2)", ["solution"]),
        ]
    )
    markdown = notebooks.to_markdown(notebook, "t", solution_label="Lösung").markdown
    first, second = markdown.split("2. Next exercise.")
    assert first.count('??? success "Lösung"') == 1
    assert "\n    Scale it by $N$:\n" in first
    assert "\n    ```python\n    print(0.01 * 3)\n    ```\n" in first
    assert "\n    ``` { .text .nb-output }\n    0.03\n    ```" in first
    assert first.index("1. Which lr?") < first.index("??? success")  # the question is open
    assert second.count('??? success "Lösung"') == 1
    assert "\n    print(2)\n" in second
