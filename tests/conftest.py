"""Shared fixtures: the built site, rebuilt when anything it is made from changed."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
SOURCES = [
    ROOT / "docs",
    ROOT / "linreg",
    ROOT / "tools",
    ROOT / "mkdocs.yml",
    ROOT / "mkdocs.zh.yml",
]


def _newest_source() -> float:
    times = []
    for source in SOURCES:
        paths = source.rglob("*") if source.is_dir() else [source]
        times += [p.stat().st_mtime for p in paths if p.is_file() and "__pycache__" not in p.parts]
    return max(times)


@pytest.fixture(scope="session")
def site() -> Path:
    """The built site (both languages), built now unless it is newer than every source.

    Under pytest-xdist each worker asks for it: a lock lets the first build it while
    the others wait, then find it fresh.
    """
    lock_path = ROOT / ".cache" / "site-build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = SITE / "index.html"
        if not stamp.exists() or stamp.stat().st_mtime < _newest_source():
            result = subprocess.run(
                [sys.executable, "-m", "tools.build_site"],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                output = f"{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
                pytest.fail(f"the site build failed:\n{output}")
    return SITE
