#!/usr/bin/env bash
# Measures d2l monitor and d2l doctor against their targets (docs/benchmarks/machine-tools.md):
#   --once wall time and peak RSS (vs top -b -n 1), CPU use at a 1 s refresh, RSS over 10,000
#   refreshes, doctor's wall time.   bench/machine_tools.sh [BIN_DIR] [SECONDS_AT_1S]
set -u
BIN=${1:-build/bin}
SECS=${2:-60}
D2L="$BIN/d2l"
ms() { date +%s%N; }
echo "load before: $(cat /proc/loadavg)"
echo "== d2l monitor --once: wall ms (10 runs), then /usr/bin/time"
for i in $(seq 10); do s=$(ms); "$D2L" monitor --once > /dev/null; e=$(ms); printf '%s ' $(( (e - s) / 1000000 )); done; echo
/usr/bin/time -f "d2l monitor --once: %e s wall, %U s user, %S s sys, %M KB max RSS" "$D2L" monitor --once > /dev/null
/usr/bin/time -f "d2l monitor --once --json: %e s wall, %U s user, %S s sys, %M KB max RSS" "$D2L" monitor --once --json > /dev/null
echo "== top -b -n 1: wall ms (10 runs), then /usr/bin/time"
for i in $(seq 10); do s=$(ms); top -b -n 1 > /dev/null; e=$(ms); printf '%s ' $(( (e - s) / 1000000 )); done; echo
/usr/bin/time -f "top -b -n 1: %e s wall, %U s user, %S s sys, %M KB max RSS" top -b -n 1 > /dev/null
echo "== CPU per refresh: 1000 refreshes back to back"
/usr/bin/time -f "d2l monitor --count 1000 --interval 0 --window 0: %e s wall, %U s user, %S s sys, %M KB max RSS" \
  "$D2L" monitor --count 1000 --interval 0 --window 0 > /dev/null
echo "== RSS over 10,000 refreshes (--json): VmRSS sampled while it runs"
"$D2L" monitor --count 10000 --interval 0 --window 0 --json > /dev/null &
pid=$!
samples=""
while kill -0 "$pid" 2> /dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2> /dev/null)
  [ -n "$rss" ] && samples="$samples $rss"
  sleep 0.5
done
wait "$pid"
echo "VmRSS KB samples: $samples"
echo "== CPU at a 1 s refresh for $SECS s (terminal output to /dev/null)"
/usr/bin/time -f "d2l monitor --interval 1 --count $SECS: %e s wall, %U s user, %S s sys, %M KB max RSS" \
  "$D2L" monitor --interval 1 --count "$SECS" > /dev/null
echo "== d2l doctor"
for i in 1 2 3; do
  /usr/bin/time -f "d2l doctor: %e s wall, %M KB max RSS" "$D2L" doctor > /dev/null
done
for i in 1 2 3; do
  /usr/bin/time -f "d2l doctor --no-torch: %e s wall, %M KB max RSS" "$D2L" doctor --no-torch > /dev/null
done
echo "load after: $(cat /proc/loadavg)"
