"""The package as installed: public names, lazy matplotlib, metadata, the release files."""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import importlib.resources
import inspect
import json
import os
import pkgutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import linreg

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "torch-linreg"
PURELIB = "import sysconfig; print(sysconfig.get_path('purelib'))"


def submodules() -> list[object]:
    return [
        importlib.import_module(f"linreg.{info.name}")
        for info in pkgutil.iter_modules(linreg.__path__)
        if not info.name.startswith("_")
    ]


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


# --------------------------------------------------------------------------- __all__


def isort_style(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical."""
    group = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return group, name


def test_all_is_sorted_unique_and_resolves() -> None:
    names = linreg.__all__
    assert names == sorted(names, key=isort_style)
    assert len(names) == len(set(names))
    for name in names:
        assert getattr(linreg, name) is not None, name


def test_all_is_what_the_modules_export_into_the_package() -> None:
    # Every name a submodule exports (its own __all__) and the package binds to the
    # same object is public API of the package; nothing else is.
    reexported = set()
    for module in submodules():
        for name in getattr(module, "__all__", []):
            bound = name in linreg.__all__ or name in vars(linreg)
            if bound and getattr(linreg, name) is getattr(module, name):
                reexported.add(name)
    assert set(linreg.__all__) == reexported

    # Conversely, every public function or class the package namespace holds from
    # linreg's modules is listed (submodules and typing helpers are not API).
    bound = {
        name
        for name, value in vars(linreg).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__.startswith("linreg.")
    }
    assert bound <= set(linreg.__all__)


def test_every_public_function_and_class_is_documented() -> None:
    for name in linreg.__all__:
        value = getattr(linreg, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            doc = inspect.getdoc(value)
            assert doc, f"linreg.{name} has no docstring"
            if inspect.isclass(value):
                assert value.__doc__, f"linreg.{name} only inherits its docstring"
                assert value.__doc__ != ValueError.__doc__


def test_the_module_and_its_entry_points_are_documented() -> None:
    assert linreg.__doc__
    for module in submodules():
        assert module.__doc__, module.__name__  # type: ignore[attr-defined]
    from linreg import cli

    assert inspect.getdoc(cli.main)


# --------------------------------------------------------------------------- lazy matplotlib


@pytest.mark.slow  # fresh Python processes
def test_import_linreg_does_not_import_matplotlib(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import json, sys
        import linreg
        names = dir(linreg)
        before = sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib")
        figure = linreg.plot_loss([2.0, 1.0])
        import matplotlib.figure
        print(json.dumps({
            "before": before,
            "dir": names,
            "figure": isinstance(figure, matplotlib.figure.Figure),
            "pyplot": "matplotlib.pyplot" in sys.modules,
        }))
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    result = json.loads(done.stdout)
    assert result["before"] == []
    assert {"plot_comparison", "plot_fit", "plot_loss", "save_figure"} <= set(result["dir"])
    assert set(linreg.__all__) <= set(result["dir"])
    assert result["figure"] is True  # the first use loads matplotlib
    assert result["pyplot"] is False


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = linreg.no_such_name  # type: ignore[attr-defined]
    assert not hasattr(linreg, "plot_everything")


# --------------------------------------------------------------------------- metadata


def test_distribution_metadata() -> None:
    dist = metadata.distribution(DISTRIBUTION)
    meta = dist.metadata
    assert meta["Name"] == DISTRIBUTION
    assert dist.version == linreg.__version__
    assert metadata.version(DISTRIBUTION) == linreg.__version__
    assert "MIT" in (meta.get("License-Expression"), meta.get("License"))
    assert SpecifierSet(meta["Requires-Python"]) == SpecifierSet(">=3.10")
    assert meta["Summary"]


def test_dependencies_are_loose_and_admit_the_pinned_stack() -> None:
    requirements = [Requirement(r) for r in metadata.requires(DISTRIBUTION) or []]
    runtime = [r for r in requirements if r.marker is None]
    assert runtime
    pins = dict(
        line.split("==")
        for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    pinned = {canonicalize_name(name): version for name, version in pins.items()}
    for requirement in runtime:
        for spec in requirement.specifier:
            assert spec.operator in (">=", ">", "!="), f"{requirement} pins a version"
        # Our own builds install the constraints' versions: the package must accept them.
        assert pinned[canonicalize_name(requirement.name)] in requirement.specifier, requirement


def test_every_dependency_is_imported_and_every_import_is_declared() -> None:
    deptry = str(Path(sys.executable).parent / "deptry")
    # The package alone against [project.dependencies]; the groups count as dev, so an
    # import of, say, numpy in linreg/ would be reported as not declared for users.
    run([deptry, "--no-ansi", "linreg"], ROOT)
    # Every folder with Python code against the groups it imports from, counted as
    # regular dependencies so that an unused entry is reported too (all groups but `dev`,
    # whose tools are run, not imported).
    roots = ["linreg", "tools", "tests", "benchmarks", "docs"]
    run([deptry, "--no-ansi", *roots, "--non-dev-dependency-groups", "test,docs,browser"], ROOT)


def test_console_script() -> None:
    scripts = [
        ep
        for ep in metadata.distribution(DISTRIBUTION).entry_points
        if ep.group == "console_scripts"
    ]
    assert [(ep.name, ep.value) for ep in scripts] == [("linreg", "linreg.cli:main")]
    from linreg.cli import main

    assert scripts[0].load() is main


def test_py_typed_is_shipped() -> None:
    assert importlib.resources.files("linreg").joinpath("py.typed").is_file()
    assert "Typing :: Typed" in metadata.metadata(DISTRIBUTION).get_all("Classifier", [])


# --------------------------------------------------------------------------- the release files


def fresh_venv(venv: Path) -> Path:
    """A venv without pip that sees this venv's packages (torch ...) through a .pth file,
    so that installing linreg into it downloads nothing. Returns its python."""
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], venv.parent)
    python = venv / "bin" / "python"
    purelib = run([str(python), "-c", PURELIB], venv.parent).strip()
    assert Path(purelib).is_relative_to(venv)
    Path(purelib, "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


def assert_linreg_comes_from(venv: Path) -> None:
    python = str(venv / "bin" / "python")
    code = "import linreg; print(linreg.__file__, linreg.__version__)"
    file, version = run([python, "-c", code], venv.parent).split()
    assert Path(file).resolve().is_relative_to(venv.resolve()), file
    assert (Path(file).parent / "py.typed").is_file()
    assert version == linreg.__version__


@pytest.mark.slow
def test_make_dist_builds_checks_and_installs_the_release_files(tmp_path: Path) -> None:
    # `make dist` as the release workflow runs it, into tmp_path. Its fresh venv borrows
    # this venv's packages, so nothing is downloaded. It uses this venv (VENV=) and does
    # not redo the set-up (-o): the venv under test is the one running this test.
    dist, venv = tmp_path / "dist", tmp_path / "dist-venv"
    prefix = Path(sys.prefix)
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    make = ["make", "--no-print-directory", f"VENV={prefix}", "-o", str(prefix / ".installed")]
    run([*make, "dist", f"DIST_DIR={dist}", f"DIST_VENV={venv}"], ROOT, env)
    assert_linreg_comes_from(venv)

    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    assert wheel.name.startswith(f"torch_linreg-{linreg.__version__}-")
    assert wheel.name.endswith("-py3-none-any.whl")
    assert sdist.name == f"torch_linreg-{linreg.__version__}.tar.gz"
    sources = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "linreg").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert {n for n in names if n.startswith("linreg/")} == sources
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert all(n.startswith(("linreg/", "torch_linreg-")) for n in names), names

    # The sdist ships no tests (they need the whole checkout: docs/, tools/, a browser),
    # only what rebuilds the wheel; it installs and runs in a fresh venv of its own.
    with tarfile.open(sdist) as archive:
        members = [m.split("/", 1)[1] for m in archive.getnames() if "/" in m]
    assert {m for m in members if m.startswith("linreg/")} == sources
    assert not [m for m in members if m.startswith(("tests/", "docs/", "tools/"))], members
    python = fresh_venv(tmp_path / "sdist-venv")
    run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", "--no-build-isolation", str(sdist)],
        tmp_path,
    )  # fmt: skip
    assert run([str(python.parent / "linreg"), "--help"], tmp_path).startswith("usage: linreg")
    assert_linreg_comes_from(python.parent.parent)
