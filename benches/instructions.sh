#!/usr/bin/env bash
# Instructions per account edit, through the crate, plain reqwest, reqwest + serde_json and
# cloudflare-rs, counted by callgrind: deterministic, so it shows the overhead even on a busy
# machine where wall times jump.
#
#   bash benches/instructions.sh            # needs valgrind
#   KEEP=dir bash benches/instructions.sh   # also keeps the callgrind profiles (dir/<side>.N2.cg)
#                                           # for callgrind_annotate
#
# Each side runs twice in one process with the in-process server (benches/throughput.rs with
# BENCH_ONLY), with N1 and N2 calls; (I(N2) - I(N1)) / (N2 - N1) is the cost of one call, client
# and server together, start-up excluded. The server's share is the same for every side.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-bench}"
N1="${N1:-200}"
N2="${N2:-1200}"
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

# From the root, like `cargo bench`: the same features, so the same binary as the wall-clock runs
# (`-p cloudflare-dns-settings-benches` alone would unify fewer features and build another one).
bin=$(cargo bench --bench throughput --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*throughput-[^"]*\)".*/\1/p' | tail -1)
[ -x "$bin" ] || { echo "could not build benches/throughput.rs" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
[ -n "${KEEP:-}" ] && mkdir -p "$KEEP"

count() { # side calls -> instructions of the whole run
    BENCH_ONLY="$1" BENCH_CALLS="$2" valgrind --tool=callgrind --callgrind-out-file="$out/cg" \
        "$bin" >/dev/null 2>"$out/log"
    [ -n "${KEEP:-}" ] && cp "$out/cg" "$KEEP/$1.$2.cg"
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/log"
}

declare -A per_call
for side in crate floor floor+decode cloudflare-rs; do
    a=$(count "$side" "$N1")
    b=$(count "$side" "$N2")
    per_call[$side]=$(( (b - a) / (N2 - N1) ))
    printf '%-14s %9d instructions per call (client + in-process server)\n' "$side" "${per_call[$side]}"
done
awk -v c="${per_call[crate]}" -v f="${per_call[floor]}" -v d="${per_call[floor+decode]}" \
    -v p="${per_call[cloudflare-rs]}" 'BEGIN {
    printf "crate / reqwest + serde_json         = %.3fx (+%d instructions per call; target <= 1.10x: %s)\n", c / d, c - d, (c / d <= 1.10 ? "met" : "MISSED")
    printf "crate / plain reqwest                = %.3fx (+%d)\n", c / f, c - f
    printf "crate / cloudflare-rs                = %.3fx (%+d)\n", c / p, c - p
    printf "cloudflare-rs / reqwest + serde_json = %.3fx (%+d)\n", p / d, p - d
}'
