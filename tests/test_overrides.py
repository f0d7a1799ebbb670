"""Our copies of Material's templates stay Material's, plus our one change each.

docs/overrides/partials/search.html is Material's partial with an `aria-label` on the
search dialog (axe-core's aria-dialog-name rule). When Material is upgraded and its
partial changes, this test fails: copy the new partial and add the label again (the
contributing page, "Upgrading Material").
"""

from __future__ import annotations

import re
from pathlib import Path

import material

ROOT = Path(__file__).resolve().parents[1]
THEME = Path(material.__file__).parent / "templates"
COMMENT = re.compile(r"\{#-.*?-#\}\n?", re.S)
LABEL = """ aria-label="{{ lang.t('search') }}\""""


def test_search_partial_is_materials_with_a_label() -> None:
    ours = COMMENT.sub("", (ROOT / "docs/overrides/partials/search.html").read_text("utf-8"))
    theirs = COMMENT.sub("", (THEME / "partials/search.html").read_text("utf-8"))
    assert LABEL in ours
    assert ours.replace(LABEL, "", 1) == theirs
