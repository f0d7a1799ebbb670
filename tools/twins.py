"""The two languages of a tutorial are one program that prints the same numbers.

A Chinese tutorial may differ from its English twin only in comments and string
literals: its prose, its labels and the words it prints speak Chinese, and a learner
who copies its code gets the English page's numbers. Both are executed, each on its
own, and every build checks, code cell by code cell:

- `check_same_program`: the cells' code, parsed, is the same once every string
  constant is blanked (comments are not part of the syntax tree); an f-string keeps
  only its `{values}`, in order, so the words around them may be ordered as Chinese
  needs (`f"loss after {n} epochs"`, `f"{n} 轮后的损失"`). A cell that writes a script
  with IPython's `%%writefile FILE` is compared as the Python it writes, and FILE too;
- `check_same_numbers`: the numbers each cell printed (its output, warnings and
  errors) are the same in the two runs, in the same order. A cell tagged `varies`
  prints measurements that change from run to run (timings) and is skipped.

Both raise `TwinError`, naming the cell; tools/notebooks.py adds the file names.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

VARIES = "varies"  # the cell's numbers change between runs (timings): not compared

# A number as Python prints one: 3, -0.25, 1.5e-07, 1,024 (thousands separators).
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")


WRITEFILE = "%%writefile "  # the one cell magic a tutorial may use: the cell is a script


class TwinError(Exception):
    """The two languages' cells differ in code or in the numbers they printed."""


def python_code(code: str) -> str:
    """A code cell as Python: a `%%writefile` cell's magic line blanked, its script kept.

    The lines keep their numbers, so a syntax error or a difference names the right one.
    """
    if code.startswith(WRITEFILE):
        return "\n" + code.partition("\n")[2]
    return code


def _statements(code: str) -> list[tuple[int, str]]:
    """Each top-level statement of `code`: its line, and its tree with strings blanked.

    A `%%writefile FILE` line counts as a statement: the file written must be the same.
    """
    try:
        tree = ast.parse(python_code(code))
    except SyntaxError as err:
        raise TwinError(f"cannot parse the code: {err.msg} (line {err.lineno})") from None
    magic = [(1, code.partition("\n")[0])] if code.startswith(WRITEFILE) else []
    for node in list(ast.walk(tree)):
        if isinstance(node, ast.JoinedStr):  # an f-string: only its {values}, in order
            node.values = [v for v in node.values if not isinstance(v, ast.Constant)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return magic + [(statement.lineno, ast.dump(statement)) for statement in tree.body]


def check_same_program(first: Sequence[str], second: Sequence[str]) -> None:
    """Raise `TwinError` unless the code cells differ only in comments and strings."""
    if len(first) != len(second):
        raise TwinError(f"{len(first)} code cells against {len(second)}")
    for number, (a, b) in enumerate(zip(first, second, strict=True), 1):
        ours, theirs = _statements(a), _statements(b)
        for (line, tree), (other_line, other_tree) in zip(ours, theirs, strict=False):
            if tree != other_tree:
                raise TwinError(
                    f"code cell {number} differs in more than comments and strings: "
                    f"{a.splitlines()[line - 1].strip()!r} "
                    f"against {b.splitlines()[other_line - 1].strip()!r}"
                )
        if len(ours) != len(theirs):
            raise TwinError(f"code cell {number} has {len(ours)} statements against {len(theirs)}")


def numbers(text: str) -> list[str]:
    """The numbers in a printed text, in order, as written."""
    return [match.replace(",", "") for match in NUMBER.findall(text)]


def check_same_numbers(
    first: Sequence[str], second: Sequence[str], skip: Sequence[bool] = ()
) -> None:
    """Raise `TwinError` unless each pair of printed texts holds the same numbers.

    Args:
        first: what each code cell of one language printed.
        second: the same for the other language.
        skip: per cell, True to leave it out (tagged `varies`).
    """
    if len(first) != len(second):
        raise TwinError(f"{len(first)} code cells against {len(second)}")
    skipped = list(skip) or [False] * len(first)
    for number, (a, b, leave) in enumerate(zip(first, second, skipped, strict=True), 1):
        if leave:
            continue
        found_a, found_b = numbers(a), numbers(b)
        if found_a != found_b:
            extra = next(
                (f"{x} against {y}" for x, y in zip(found_a, found_b, strict=False) if x != y),
                f"{len(found_a)} numbers against {len(found_b)}",
            )
            raise TwinError(f"code cell {number} printed different numbers: {extra}")
