// Render TeX to HTML with KaTeX at build time, so the site ships no math JavaScript.
// Protocol (used by tools/mkdocs_hooks.py): one JSON request per line on stdin,
// {"tex": "...", "display": true|false, "output": "htmlAndMathml"|"mathml"} (output is
// optional: KaTeX's HTML for the pages, MathML for the search results); one JSON reply
// per line on stdout,
// {"html": "..."} or {"error": "KaTeX parse error: ..."}.
"use strict"
const katex = require("./katex.min.js")
const readline = require("readline")

const lines = readline.createInterface({ input: process.stdin, terminal: false })
lines.on("line", (line) => {
  const { tex, display, output = "htmlAndMathml" } = JSON.parse(line)
  let reply
  try {
    reply = {
      html: katex.renderToString(tex, {
        displayMode: display,
        output,
        throwOnError: true,
        strict: "error",
      }),
    }
  } catch (error) {
    reply = { error: String(error.message || error) }
  }
  process.stdout.write(JSON.stringify(reply) + "\n")
})
