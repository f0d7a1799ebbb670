// Typeset math with the locally served KaTeX after every page load (including
// Material's instant navigation). pymdownx.arithmatex (generic mode) wraps the
// formulas in .arithmatex elements with \( \) and \[ \] delimiters.
document$.subscribe(() => {
  for (const element of document.querySelectorAll(".arithmatex")) {
    renderMathInElement(element, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false,
    })
  }
})
