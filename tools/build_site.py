"""Build the English and the Chinese site side by side, then the root redirect page.

Usage: python -m tools.build_site [--no-execute]

Both builds run at once (one per core); each prints its own log lines, prefixed.
The build fails if either fails. SITE_URL (default http://127.0.0.1:8000/) is the
address the whole site is served from; the languages live under en/ and zh/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
CONFIGS = {"en": "mkdocs.yml", "zh": "mkdocs.zh.yml"}

# The root page sends Chinese-language browsers to zh/ and everyone else to en/.
REDIRECT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>torch-linreg</title>
<meta http-equiv="refresh" content="0; url=en/">
<script>
  if ((navigator.language || "").toLowerCase().startsWith("zh")) location.replace("zh/");
  else location.replace("en/");
</script>
</head>
<body><p><a href="en/">English</a> · <a href="zh/">简体中文</a></p></body>
</html>
"""


def _run(lang: str, env: dict[str, str], results: dict[str, int]) -> None:
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", CONFIGS[lang]]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "Kernel is running over TCP" in line or not line.strip():
            continue  # ipykernel's notice about its local sockets, once per notebook
        print(f"[{lang}] {line}", end="", flush=True)
    results[lang] = process.wait()


def main() -> int:
    """Build both languages; return 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-execute", action="store_true", help="skip running the notebooks (a quick preview)"
    )
    args = parser.parse_args()
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    if args.no_execute:
        env["LINREG_EXECUTE"] = "0"
    start = time.perf_counter()
    shutil.rmtree(SITE, ignore_errors=True)
    results: dict[str, int] = {}
    threads = [threading.Thread(target=_run, args=(lang, env, results)) for lang in CONFIGS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failed = [lang for lang, code in results.items() if code != 0]
    if failed:
        print(f"site build failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    (SITE / "index.html").write_text(REDIRECT, encoding="utf-8")
    print(f"site built in {time.perf_counter() - start:.1f} s: {SITE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
