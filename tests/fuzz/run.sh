#!/bin/sh
# Fuzzes each parser for SECONDS (default 120) from a fresh seed corpus, after replaying the
# known regressions. usage: tests/fuzz/run.sh [BUILD_DIR (build-fuzz)] [SECONDS]
# Exit status: 0 when no target crashed. Crash inputs land in BUILD_DIR/fuzz-artifacts/.
set -eu
build=${1:-build-fuzz}
secs=${2:-120}
here=$(cd "$(dirname "$0")" && pwd)
corpus=$build/fuzz-corpus
arts=$build/fuzz-artifacts
mkdir -p "$arts"
python3 "$here/make_corpus.py" "$corpus"
status=0
for t in fuzz_idx fuzz_cifar10 fuzz_gzip; do
  exe=$build/bin/$t
  [ -x "$exe" ] || { echo "$t: not built, skipped"; continue; }
  echo "== $t: ${secs}s"
  # -rss_limit_mb: a parser must not need more than this for a 4 KiB input.
  if ! "$exe" "$corpus/$t" -max_total_time="$secs" -max_len=8192 -use_value_profile=1 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$arts/$t-" 2>"$build/$t.log"; then
    status=1
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)|ERROR|invariant|fuzz_gzip:" \
    "$build/$t.log" || true
done
exit $status
