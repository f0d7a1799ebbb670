"""tools/twins.py: one program in two languages, the same numbers printed."""

from __future__ import annotations

import re

import pytest

from tools.twins import TwinError, check_same_numbers, check_same_program, numbers

ENGLISH = '''# the lesson's data
x = torch.tensor([[1.0], [2.0], [3.0]])
print(f"loss after {epochs} epochs: {loss:.4f}")
linreg.plot_loss(history, title="SGD", lang="en")
def f(a):
    """Twice a."""
    return 2 * a
'''
CHINESE = '''# 本课的数据
x = torch.tensor([[1.0], [2.0], [3.0]])
print(f"训练 {epochs} 轮后的损失：{loss:.4f}")
linreg.plot_loss(history, title="SGD", lang="zh")
def f(a):
    """a 的两倍。"""
    return 2 * a
'''


def test_comments_and_strings_may_differ() -> None:
    check_same_program([ENGLISH, "y = 1"], [CHINESE, "y = 1  # 一"])


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("[3.0]])", "[4.0]])", "x = torch.tensor([[1.0], [2.0], [4.0]])"),  # a number
        ("torch.tensor", "torch.Tensor", "x = torch.Tensor([[1.0], [2.0], [3.0]])"),  # a name
        ("{loss:.4f}", "{loss}", 'print(f"训练 {epochs} 轮后的损失：{loss}")'),  # a format
        ('title="SGD", ', "", 'linreg.plot_loss(history, lang="zh")'),  # an argument
    ],
)
def test_any_other_difference_is_refused_naming_the_line(old: str, new: str, line: str) -> None:
    changed = CHINESE.replace(old, new, 1)
    with pytest.raises(TwinError, match="code cell 2 differs in more than comments") as error:
        check_same_program(["y = 1", ENGLISH], ["y = 1", changed])
    assert str(error.value).endswith(f"against {line!r}")


def test_f_strings_may_put_their_words_elsewhere_but_not_their_values() -> None:
    check_same_program(
        ['print(f"loss after {n} epochs: {loss:.4f}")'], ['print(f"{n} 轮后：{loss:.4f}")']
    )
    with pytest.raises(TwinError, match="code cell 1 differs"):
        check_same_program(['print(f"{n} epochs, loss {loss}")'], ['print(f"损失 {loss}，{n} 轮")'])


def test_a_missing_statement_or_cell_is_refused() -> None:
    shorter = CHINESE[: CHINESE.index("def f")]
    with pytest.raises(TwinError, match="code cell 1 has 4 statements against 3"):
        check_same_program([ENGLISH], [shorter])
    with pytest.raises(TwinError, match="2 code cells against 1"):
        check_same_program([ENGLISH, "y = 1"], [CHINESE])


def test_numbers_are_read_as_printed() -> None:
    text = "epoch 10: loss = 1.5e-07, w = -0.25, N = 100,000 rows; 第 3 轮 x_2 t0"
    assert numbers(text) == ["10", "1.5e-07", "-0.25", "100000", "3"]


def test_the_same_numbers_in_other_words_pass_and_different_ones_fail() -> None:
    check_same_numbers(["epoch 10: loss 0.5"], ["第 10 轮：损失 0.5"])
    with pytest.raises(
        TwinError, match=r"code cell 2 printed different numbers: 0\.5 against 0\.6"
    ):
        check_same_numbers(["", "epoch 10: loss 0.5"], ["", "第 10 轮：损失 0.6"])
    with pytest.raises(TwinError, match="2 numbers against 1"):
        check_same_numbers(["w = 2.0, b = 0.0"], ["w = 2.0"])


def test_cells_that_vary_are_skipped() -> None:
    check_same_numbers(["took 0.031 s", "1"], ["用时 0.029 秒", "1"], skip=[True, False])


SCRIPT = '%%writefile train.py\n"""Train."""\nprint("epoch", 1)\n'


def test_a_writefile_cell_is_compared_as_the_script_it_writes() -> None:
    chinese = SCRIPT.replace('"""Train."""', '"""训练。"""').replace('"epoch"', '"轮"')
    check_same_program([SCRIPT], [chinese])
    with pytest.raises(TwinError, match=r"'print\(\"epoch\", 1\)' against 'print\(\"轮\", 2\)'"):
        check_same_program([SCRIPT], [chinese.replace("1)", "2)")])
    other_file = re.escape("'%%writefile train.py' against '%%writefile other.py'")
    with pytest.raises(TwinError, match=other_file):
        check_same_program([SCRIPT], [chinese.replace("train.py", "other.py")])
    no_magic = re.escape("'%%writefile train.py' against '\"\"\"Train")
    with pytest.raises(TwinError, match=no_magic):
        check_same_program([SCRIPT], ['"""Train."""\nprint(1)\n'])
