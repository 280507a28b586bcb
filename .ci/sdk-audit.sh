#!/usr/bin/env bash
# The SDK audit (issues 16 and 26; spec/README.md, "The SDK audit"): spec/ checked field by field
# against the official Python and TypeScript SDKs' models.
#  1. Installs the Python SDK pinned in .ci/sdk-audit/requirements.txt into a venv under
#     .ci/sdk-audit/, and the TypeScript SDK (and the TypeScript compiler that reads it) pinned in
#     .ci/sdk-audit/package.json + package-lock.json into .ci/sdk-audit/node_modules (both
#     git-ignored; reinstalled only when the pins change).
#  2. Re-extracts each SDK's models (.ci/sdk-audit/extract.py, extract-ts.mjs) and checks that the
#     committed snapshots spec/sdk/cloudflare-python-<version>.json and
#     cloudflare-typescript-<version>.json are byte for byte what they give.
#  3. Runs `cargo run -p xtask -- audit-sdk` on both: every difference between
#     spec/dns_settings.json and each snapshot must be explained in spec/sdk-audit.json; where the
#     two SDKs disagree is printed for the record.
#  4. Asks PyPI and npm (one look-up each) for the newest `cloudflare`; when one is newer
#     than its pin, audits spec/ against it too and prints what it changes, as a NOTICE that never
#     fails CI (`cargo run -p xtask -- sdk-newer`; `--write` there makes it the pin). An upstream
#     release must not block our work: only the pinned audit (3) fails on what is unexplained.
#     SDK_AUDIT_PYPI_NEWEST / SDK_AUDIT_NPM_NEWEST stand in for the registries' answers.
# With --write, step 2 (re)writes the snapshots instead (after upgrading a pin; it removes the
# snapshot of the old version), then audits.
# Needs Python 3 with venv and Node with npm besides the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

write=
case "${1:-}" in
  --write) write=1 ;;
  "") ;;
  *) echo "usage: bash .ci/sdk-audit.sh [--write]" >&2; exit 2 ;;
esac

requirements=.ci/sdk-audit/requirements.txt
venv=.ci/sdk-audit/.venv
version=$(sed -n 's/^cloudflare==//p' "$requirements")
if [ -z "$version" ]; then
  echo "$requirements pins no \`cloudflare==<version>\`" >&2
  exit 2
fi
package=.ci/sdk-audit/package.json
npm_version=$(node -e 'console.log(require("./'"$package"'").dependencies.cloudflare || "")')
if [ -z "$npm_version" ]; then
  echo "$package pins no \`cloudflare\`" >&2
  exit 2
fi
python_snapshot=spec/sdk/cloudflare-python-$version.json
typescript_snapshot=spec/sdk/cloudflare-typescript-$npm_version.json

echo "== SDK audit: install the pinned cloudflare==$version (PyPI) under $venv"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/installed.txt"; then
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --disable-pip-version-check --no-input --quiet -r "$requirements"
  cp "$requirements" "$venv/installed.txt"
fi

echo "== SDK audit: install the pinned cloudflare@$npm_version (npm) under .ci/sdk-audit/node_modules"
modules=.ci/sdk-audit/node_modules
if [ ! -d "$modules/cloudflare" ] || ! cmp -s .ci/sdk-audit/package-lock.json "$modules/installed-lock.json"; then
  (cd .ci/sdk-audit && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  cp .ci/sdk-audit/package-lock.json "$modules/installed-lock.json"
fi

fresh=$(mktemp -d "${TMPDIR:-/tmp}/sdk-snapshot.XXXXXX")
trap 'rm -rf "$fresh"' EXIT
"$venv/bin/python" .ci/sdk-audit/extract.py >"$fresh/python.json"
node .ci/sdk-audit/extract-ts.mjs >"$fresh/typescript.json"

# check_or_write <fresh> <committed snapshot> <glob of its kind> <extractor>
check_or_write() {
  local made=$1 snapshot=$2 kind=$3 extractor=$4
  if [ -n "$write" ]; then
    mkdir -p spec/sdk
    find spec/sdk -name "$kind" ! -name "$(basename "$snapshot")" -delete
    cp "$made" "$snapshot"
    echo "wrote $snapshot"
    return
  fi
  echo "== SDK audit: $snapshot is what $extractor makes of the installed SDK"
  if [ ! -f "$snapshot" ]; then
    echo "$snapshot does not exist: after changing the pin, run \`bash .ci/sdk-audit.sh --write\`" >&2
    exit 1
  fi
  if ! cmp -s "$made" "$snapshot"; then
    echo "$snapshot differs from the installed SDK's models (first 80 lines of the diff):" >&2
    diff -u "$snapshot" "$made" | head -n 80 >&2 || true
    echo "$extractor or the pins changed: review, then \`bash .ci/sdk-audit.sh --write\`" >&2
    exit 1
  fi
}
check_or_write "$fresh/python.json" "$python_snapshot" 'cloudflare-python-*.json' extract.py
check_or_write "$fresh/typescript.json" "$typescript_snapshot" 'cloudflare-typescript-*.json' extract-ts.mjs

echo "== SDK audit: spec/dns_settings.json against $python_snapshot and $typescript_snapshot (explained in spec/sdk-audit.json)"
cargo run --locked -q -p xtask -- audit-sdk --spec spec/dns_settings.json \
  --sdk "$python_snapshot" --sdk "$typescript_snapshot" --explained spec/sdk-audit.json

echo "== SDK audit: is there an official SDK newer than the pins? (a notice; never fails CI)"
newer_args=()
if [ -n "${SDK_AUDIT_PYPI_NEWEST:-}" ]; then newer_args+=(--pypi-newest "$SDK_AUDIT_PYPI_NEWEST"); fi
if [ -n "${SDK_AUDIT_NPM_NEWEST:-}" ]; then newer_args+=(--npm-newest "$SDK_AUDIT_NPM_NEWEST"); fi
cargo run --locked -q -p xtask -- sdk-newer "${newer_args[@]}" ||
  echo "notice: the check for a newer SDK did not run to its end (exit $?); this fails nothing"
