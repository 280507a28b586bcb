#!/usr/bin/env bash
# Build cost of this crate against a floor crate, and the rebuild after a spec edit.
#
#   bash benches/build_cost.sh          # prints a table and the ratios; takes a few minutes
#
# - crate: a copy of this repository (no target/, no .git/) in a temp dir, `cargo build -p
#   cloudflare-dns-settings` (the library, dev profile) from an empty target dir.
# - floor: a generated crate that depends only on reqwest (the same version and TLS/HTTP
#   features as ours, read from Cargo.toml), serde and serde_json, with our Cargo.lock so that
#   the versions match, built the same way.
# - rebuild: in the crate's copy, after its clean build, one field description in
#   spec/dns_settings.json is edited and `cargo build` runs again (build.rs regenerates, the
#   library recompiles). The repository's own spec/ is never touched.
#
# Both builds use the same CARGO_HOME (registry cache) and `--offline` when everything needed is
# already downloaded; nothing is fetched but crates from the registry. Set JOBS to pass -j.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/build-cost.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
jobs=()
[ -n "${JOBS:-}" ] && jobs=(-j "$JOBS")
# The targets of the issue.
max_clean_ratio=1.5
max_rebuild_seconds=3

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# Fetches what is missing for this platform (untimed), so that the timed build only compiles.
host=$(rustc -vV | sed -n 's/^host: //p')
prefetch() {
    (cd "$1" && { cargo fetch --offline --target "$host" >/dev/null 2>&1 ||
        cargo fetch --target "$host" >/dev/null 2>&1; })
}

# build DIR LOG [cargo args…] -> wall seconds; cargo's output goes to LOG
build() {
    local dir="$1" log="$2" start end
    shift 2
    start=$(now)
    (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo build --offline "${jobs[@]}" "$@") >"$log" 2>&1 ||
        { cat "$log" >&2; echo "build failed in $dir" >&2; exit 1; }
    end=$(now)
    seconds "$start" "$end"
}

compiled() { grep -c '^ *Compiling ' "$1" || true; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(rustc -V)"
echo "temp dir: $tmp"

# --- the crate ---------------------------------------------------------------------------------
mkdir -p "$tmp/crate"
(cd "$repo" && tar --exclude=./target --exclude=./.git -cf - .) | tar -xf - -C "$tmp/crate"
rm -rf "$tmp/crate/target"
prefetch "$tmp/crate"

# --- the floor crate ---------------------------------------------------------------------------
reqwest_line=$(grep -E '^reqwest *=' "$repo/Cargo.toml")
# The crate's default features add TLS to reqwest (`rustls = ["reqwest/rustls"]`): the floor
# gets the same reqwest features, or it would be compared without a TLS stack.
default_reqwest_features=$(sed -n '/^\[features\]/,/^\[/p' "$repo/Cargo.toml" |
  grep -E '^rustls *=' | grep -o 'reqwest/[a-z0-9-]*' | sed 's|reqwest/|"|; s|$|"|' | paste -sd, -)
if [ -n "$default_reqwest_features" ]; then
  reqwest_line=$(printf '%s' "$reqwest_line" | sed "s|features = \[|features = [$default_reqwest_features, |")
fi
mkdir -p "$tmp/floor/src"
cat >"$tmp/floor/Cargo.toml" <<EOF
[package]
name = "build-cost-floor"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
$reqwest_line
serde = { version = "1", features = ["derive"] }
serde_json = "1"
EOF
cat >"$tmp/floor/src/lib.rs" <<'EOF'
//! What a hand-written client of the same endpoint needs: reqwest, serde, serde_json.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    pub success: bool,
    pub result: Option<serde_json::Value>,
}

pub async fn edit(client: &reqwest::Client, url: &str, body: &serde_json::Value) -> reqwest::Result<Envelope> {
    client.patch(url).json(body).send().await?.json().await
}
EOF
cp "$repo/Cargo.lock" "$tmp/floor/Cargo.lock"
prefetch "$tmp/floor"

echo "clean builds (dev profile, empty target dirs)…"
floor_s=$(build "$tmp/floor" "$tmp/floor.log")
floor_n=$(compiled "$tmp/floor.log")
crate_s=$(build "$tmp/crate" "$tmp/crate.log" -p cloudflare-dns-settings)
crate_n=$(compiled "$tmp/crate.log")

echo "rebuilds…"
noop_s=$(build "$tmp/crate" "$tmp/noop.log" -p cloudflare-dns-settings)
spec="$tmp/crate/spec/dns_settings.json"
cp "$spec" "$tmp/spec.orig"
# The first description of ns_ttl: a doc comment in the generated code changes, nothing else.
perl -0pi -e 's/("description": ")(The time to live \(TTL\) of the zone)/$1(edited) $2/' "$spec"
if cmp -s "$spec" "$tmp/spec.orig"; then
    echo "the spec edit did not apply (no ns_ttl description found)" >&2
    exit 1
fi
edit_s=$(build "$tmp/crate" "$tmp/edit.log" -p cloudflare-dns-settings)
edit_n=$(compiled "$tmp/edit.log")

ratio=$(awk -v a="$crate_s" -v b="$floor_s" 'BEGIN { printf "%.2f", a / b }')
crates_ratio=$(awk -v a="$crate_n" -v b="$floor_n" 'BEGIN { printf "%.2f", a / b }')
verdict() { awk -v ok="$1" 'BEGIN { print (ok ? "met" : "MISSED") }'; }

echo
echo "| build | wall time (s) | crates compiled |"
echo "|---|---:|---:|"
echo "| floor crate (reqwest + serde + serde_json), clean | $floor_s | $floor_n |"
echo "| cloudflare-dns-settings, clean | $crate_s | $crate_n |"
echo "| cloudflare-dns-settings, nothing changed | $noop_s | 0 |"
echo "| cloudflare-dns-settings, one spec description edited | $edit_s | $edit_n |"
echo
echo "clean build: crate / floor = ${ratio}x wall time, ${crates_ratio}x crates" \
    "(target <= ${max_clean_ratio}x: $(verdict "$(awk -v r="$ratio" -v m="$max_clean_ratio" 'BEGIN { print (r <= m) }')"))"
echo "rebuild after a spec edit: ${edit_s} s" \
    "(target <= ${max_rebuild_seconds} s: $(verdict "$(awk -v s="$edit_s" -v m="$max_rebuild_seconds" 'BEGIN { print (s <= m) }')"))"

# What only the crate compiles, heaviest first by nothing but name: for reading, not timing.
if [ -n "${SHOW_EXTRA:-}" ]; then
    echo
    echo "compiled for the crate and not for the floor:"
    comm -23 <(sed -n 's/^ *Compiling \([^ ]*\) .*/\1/p' "$tmp/crate.log" | sort -u) \
        <(sed -n 's/^ *Compiling \([^ ]*\) .*/\1/p' "$tmp/floor.log" | sort -u) | tr '\n' ' '
    echo
fi
