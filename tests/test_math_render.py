"""tools/math_render.py: KaTeX in Node.js, typesetting pages and the search index."""

from __future__ import annotations

import pytest

from tools import math_render


def test_katex_rejects_a_bad_formula_with_its_message() -> None:
    katex = math_render.Katex()
    try:
        page, count = katex.typeset('<p><span class="arithmatex">\\(a &lt; b\\)</span></p>')
        assert count == 1
        assert 'class="katex"' in page
        assert "&lt;" in page
        assert '<annotation encoding="application/x-tex">a &lt; b</annotation>' in page
        with pytest.raises(math_render.MathError, match=r"KaTeX parse error: .*\\frac\{1"):
            katex.typeset('<div class="arithmatex">\\[\\frac{1\\]</div>')
        assert {"a", "<", "b"} <= katex.characters
    finally:
        katex.close()


def test_search_text_gets_mathml_outside_code() -> None:
    katex = math_render.Katex()
    try:
        text = katex.typeset_search_text(
            "<p>Fit \\(\\hat{y} = wx + b\\) by</p> \\[ L = \\sum_i e_i^2 \\]"
            " <pre><code>re.compile(r'\\(x\\)')</code></pre>"
        )
    finally:
        katex.close()
    assert "\\(\\hat" not in text
    assert "\\[" not in text
    assert text.count("<math") == 2
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in text
    assert "<annotation" not in text  # the TeX source is neither shown nor searched
    assert "<pre><code>re.compile(r'\\(x\\)')</code></pre>" in text  # code untouched
