#!/usr/bin/env bash
# Debian packages the site and its tests need, installed when missing:
#   fonts-noto-cjk  Chinese labels in figures and screenshots (else they render as boxes)
#   chromium        the browser that the site's tests drive through Playwright
#   nodejs          runs KaTeX at build time, to typeset the math (when no `node` is found)
#   npm             installs the Nu HTML Checker (package.json) and Lighthouse (benchmarks/)
#   default-jre-headless  runs the Nu HTML Checker of tests/test_html_valid.py (when no `java`)
# Then make sure matplotlib sees the CJK font and its own: its font list may have been cached
# before the font was installed, or by another matplotlib install.
set -euo pipefail
python=${1:-.venv/bin/python}
packages=(fonts-noto-cjk chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
command -v node >/dev/null || command -v nodejs >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v java >/dev/null || missing+=(default-jre-headless)
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# STIXGeneral is one of matplotlib's own fonts: a list without it was made by another
# matplotlib install.
find_font='from matplotlib import font_manager as fm
for family in ("Noto Sans CJK SC", "STIXGeneral"):
    fm.findfont(family, fallback_to_default=False)'
if ! "$python" -c "$find_font" 2>/dev/null; then
  cache=$("$python" -c 'import matplotlib; print(matplotlib.get_cachedir())')
  echo "matplotlib's font list lacks the CJK font or its own fonts: clearing $cache"
  rm -f "$cache"/fontlist-*.json
  "$python" -c "$find_font"
fi
