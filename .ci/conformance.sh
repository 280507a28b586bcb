#!/usr/bin/env bash
# Conformance of the crate against spec/, by tools that are not ours:
#  1. openapi-spec-validator (PyPI, pinned in .ci/spec-validator/requirements.txt, installed into
#     a venv) validates spec/dns_settings.json as OpenAPI 3.0.
#  2. Prism (@stoplight/prism-cli from npm, pinned in .ci/prism/package-lock.json) mocks the spec
#     on loopback with dynamic responses; tests/conformance.rs drives every operation against it
#     for many seeds (PRISM_SEEDS, default 250): Prism validates each request (422 and an
#     `sl-violations` header when the spec is broken) and its random spec-valid responses must
#     decode. Prism is always stopped on exit.
# Needs Node >= 18.20.1 with npm, Python 3 with venv, curl and the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."

spec=spec/dns_settings.json

echo "== spec/: openapi-spec-validator"
venv=.ci/spec-validator/.venv
requirements=.ci/spec-validator/requirements.txt
if [ ! -x "$venv/bin/openapi-spec-validator" ] || ! cmp -s "$requirements" "$venv/installed.txt"; then
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --disable-pip-version-check --no-input --quiet -r "$requirements"
  cp "$requirements" "$venv/installed.txt"
fi
"$venv/bin/openapi-spec-validator" --schema 3.0 --validation-errors all "$spec"

echo "== Prism: install the pinned version"
npm ci --prefix .ci/prism --no-audit --no-fund --loglevel=error
prism=.ci/prism/node_modules/.bin/prism
echo "prism $("$prism" --version)"

port=$("${PYTHON:-python3}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
log=$(mktemp "${TMPDIR:-/tmp}/prism.XXXXXX")
prism_pid=
stop_prism() {
  if [ -n "$prism_pid" ]; then
    kill "$prism_pid" 2>/dev/null || true
    wait "$prism_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap stop_prism EXIT
trap 'exit 130' INT TERM

echo "== Prism: mock $spec on $url (dynamic responses, request validation on)"
# Runs node directly (no npx, no shell in between), so that $! is Prism itself.
"$prism" mock --host 127.0.0.1 --port "$port" --dynamic "$spec" >"$log" 2>&1 &
prism_pid=$!

# Ready when it answers HTTP: a request without credentials must get Prism's 401.
ready=
for _ in $(seq 1 120); do
  if ! kill -0 "$prism_pid" 2>/dev/null; then
    echo "Prism exited before it was ready; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
    "$url/accounts/023e105f4ecef8ad9ca31a8372d0c353/dns_settings" || true)
  if [ "$status" = 401 ]; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "Prism did not answer on $url within 60 s (last status: ${status:-none}); its log:" >&2
  cat "$log" >&2
  exit 1
fi

echo "== cargo test --test conformance against Prism (${PRISM_SEEDS:-250} seeds per operation and mode)"
# The Prism tests are #[ignore]d so that plain `cargo test` cannot pass them without Prism;
# --ignored runs them (and only them) here.
if ! PRISM_URL="$url" PRISM_SEEDS="${PRISM_SEEDS:-250}" \
  cargo test --locked --test conformance -- --ignored --nocapture --test-threads=1; then
  if ! kill -0 "$prism_pid" 2>/dev/null; then
    echo "== Prism died during the test; the end of its log:" >&2
    tail -n 40 "$log" >&2
  fi
  exit 1
fi
