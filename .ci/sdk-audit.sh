#!/usr/bin/env bash
# The SDK audit (issue 16; spec/README.md, "The SDK audit"): spec/ checked field by field against
# the official Python SDK's models.
#  1. Installs the SDK pinned in .ci/sdk-audit/requirements.txt into a venv under .ci/sdk-audit/
#     (git-ignored; reinstalled only when the pins change).
#  2. Re-extracts the SDK's models with .ci/sdk-audit/extract.py and checks that the committed
#     snapshot spec/sdk/cloudflare-python-<version>.json is byte for byte what it gives.
#  3. Runs `cargo run -p xtask -- audit-sdk`: every difference between spec/dns_settings.json and
#     the snapshot must be explained in spec/sdk-audit.json.
#  4. Asks PyPI and npm (one look-up each) for the newest `cloudflare`; when PyPI's is newer
#     than the pin, audits spec/ against it too and prints what it changes, as a NOTICE that never
#     fails CI (`cargo run -p xtask -- sdk-newer`; `--write` there makes it the pin). An upstream
#     release must not block our work: only the pinned audit (3) fails on what is unexplained.
#     SDK_AUDIT_PYPI_NEWEST / SDK_AUDIT_NPM_NEWEST stand in for the registries' answers.
# With --write, step 2 (re)writes the snapshot instead (after upgrading the pin; it removes the
# snapshot of the old version), then audits.
# Needs Python 3 with venv besides the Rust toolchain.
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
snapshot=spec/sdk/cloudflare-python-$version.json

echo "== SDK audit: install the pinned cloudflare==$version (PyPI) under $venv"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/installed.txt"; then
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --disable-pip-version-check --no-input --quiet -r "$requirements"
  cp "$requirements" "$venv/installed.txt"
fi

fresh=$(mktemp "${TMPDIR:-/tmp}/sdk-snapshot.XXXXXX")
trap 'rm -f "$fresh"' EXIT
"$venv/bin/python" .ci/sdk-audit/extract.py >"$fresh"
if [ -n "$write" ]; then
  mkdir -p spec/sdk
  find spec/sdk -name 'cloudflare-python-*.json' ! -name "$(basename "$snapshot")" -delete
  cp "$fresh" "$snapshot"
  echo "wrote $snapshot"
else
  echo "== SDK audit: $snapshot is what extract.py makes of the installed SDK"
  if [ ! -f "$snapshot" ]; then
    echo "$snapshot does not exist: after changing the pin, run \`bash .ci/sdk-audit.sh --write\`" >&2
    exit 1
  fi
  if ! cmp -s "$fresh" "$snapshot"; then
    echo "$snapshot differs from the installed SDK's models (first 80 lines of the diff):" >&2
    diff -u "$snapshot" "$fresh" | head -n 80 >&2 || true
    echo "extract.py or the pins changed: review, then \`bash .ci/sdk-audit.sh --write\`" >&2
    exit 1
  fi
fi

echo "== SDK audit: spec/dns_settings.json against $snapshot (explained in spec/sdk-audit.json)"
cargo run --locked -q -p xtask -- audit-sdk --spec spec/dns_settings.json --sdk "$snapshot" \
  --explained spec/sdk-audit.json

echo "== SDK audit: is there an official SDK newer than the pin? (a notice; never fails CI)"
newer_args=()
if [ -n "${SDK_AUDIT_PYPI_NEWEST:-}" ]; then newer_args+=(--pypi-newest "$SDK_AUDIT_PYPI_NEWEST"); fi
if [ -n "${SDK_AUDIT_NPM_NEWEST:-}" ]; then newer_args+=(--npm-newest "$SDK_AUDIT_NPM_NEWEST"); fi
cargo run --locked -q -p xtask -- sdk-newer "${newer_args[@]}" ||
  echo "notice: the check for a newer SDK did not run to its end (exit $?); this fails nothing"
