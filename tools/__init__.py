"""The site's build tools: the notebook pipeline, the MkDocs hooks, math at build time.

A package of the repository, not of the distribution (the wheel ships `linreg` only).
It is importable in the project's venv because the editable install puts the
repository's root on `sys.path`; run its scripts as modules from the root, e.g.
`python -m tools.build_site`.

- `build_site`: build both languages and the root redirect page.
- `mkdocs_hooks`: the hooks both MkDocs builds load (`hooks:` in mkdocs.yml).
- `notebooks`: run the jupytext tutorials in a kernel and render them as Markdown.
- `math_render`: typeset the math with KaTeX in Node.js; cut KaTeX's fonts.
- `browser`: headless Chromium and a local server for the built site, shared by
  `screenshot`, the browser tests and the site benchmark.
- `screenshot`: a screenshot of a page of the built site.
"""
