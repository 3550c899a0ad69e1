#!/usr/bin/env bash
# Times the manuscript build with hyperfine: cold build (fresh outputs), no-op rebuild (nothing
# changed), and the floor (import the Python stack + one pandoc call + one typst compile).
# Usage: bench/render.sh [PROJECT]   (default: the repository itself)
set -euo pipefail
cd "$(dirname "$0")/.."
PROJECT=${1:-.}
PY=.venv/bin/python
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
mkdir -p bench/results
FLOOR=$(mktemp -d)
printf '= Floor\n\nOne paragraph.\n' > "$FLOOR/floor.typ"
cat > "$FLOOR/floor.py" <<PYEOF
import subprocess, pandas, numpy, scipy, matplotlib.pyplot, lifelines, great_tables, typst, pypandoc
subprocess.run([pypandoc.get_pandoc_path(), "-f", "markdown", "-t", "html"], input=b"# floor", check=True, capture_output=True)
typst.compile("$FLOOR/floor.typ", output="$FLOOR/floor.pdf")
PYEOF
hyperfine --warmup 1 --runs 5 --export-markdown bench/results/render.md \
  --prepare true --prepare "rm -rf $PROJECT/_manuscript" --prepare true \
  -n floor "$PY $FLOOR/floor.py" \
  -n cold "$PY -m qrender $PROJECT" \
  -n no-op "$PY -m qrender $PROJECT"
cat bench/results/render.md
rm -rf "$FLOOR"
