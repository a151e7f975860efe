#!/usr/bin/env bash
# Runs the whole test suite: the SQLite pass always, the PostgreSQL pass whenever a server is
# configured (TEST_DATABASE_URL) or answers on 127.0.0.1:5432. Says plainly which passes ran.
# CURTAIN_REQUIRE_POSTGRES=1 (set by CI) turns a missing PostgreSQL into a failure.
set -uo pipefail
cd "$(dirname "$0")/.."

pg_url="${TEST_DATABASE_URL:-}"
if [ -z "$pg_url" ] && (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  pg_url="postgres://postgres@127.0.0.1:5432/postgres"
fi

# The ticket tests render PDFs to images (poppler's pdftoppm) to decode their QR codes.
if ! command -v pdftoppm >/dev/null 2>&1; then
  echo "== installing poppler-utils (pdftoppm) for the ticket PDF tests"
  if [ "$(id -u)" = 0 ]; then
    (apt-get install -y --no-install-recommends poppler-utils >/dev/null 2>&1 \
      || (apt-get update >/dev/null && apt-get install -y --no-install-recommends poppler-utils >/dev/null)) || true
  else
    sudo -n apt-get install -y --no-install-recommends poppler-utils >/dev/null 2>&1 || true
  fi
  command -v pdftoppm >/dev/null 2>&1 || echo "pdftoppm is missing: install poppler-utils (the PDF tests will fail)" >&2
fi

cargo build --workspace --tests --locked || exit 1

ran=()
failed=()
echo "== SQLite pass"
if env -u TEST_DATABASE_URL cargo test --workspace --locked; then ran+=("SQLite: passed"); else failed+=("SQLite"); ran+=("SQLite: FAILED"); fi

if [ -n "$pg_url" ]; then
  echo "== PostgreSQL pass ($pg_url)"
  if TEST_DATABASE_URL="$pg_url" cargo test --workspace --locked; then ran+=("PostgreSQL: passed"); else failed+=("PostgreSQL"); ran+=("PostgreSQL: FAILED"); fi
else
  ran+=("PostgreSQL: NOT RUN (no server configured or answering on 127.0.0.1:5432)")
  [ "${CURTAIN_REQUIRE_POSTGRES:-0}" = 1 ] && failed+=("PostgreSQL (required but unreachable)")
fi

echo "== OpenAPI 3.1 validation"
if python3 -c "import openapi_spec_validator" 2>/dev/null; then
  # The binary the integration tests were built with.
  if target/debug/curtain openapi > target/openapi.json && python3 -m openapi_spec_validator target/openapi.json; then
    ran+=("OpenAPI document: valid OpenAPI 3.1")
  else
    failed+=("OpenAPI"); ran+=("OpenAPI document: INVALID")
  fi
else
  ran+=("OpenAPI document: NOT VALIDATED (pip install openapi-spec-validator to check it)")
  [ "${CURTAIN_REQUIRE_POSTGRES:-0}" = 1 ] && failed+=("OpenAPI (validator missing in CI)")
fi

echo
echo "== Test passes"
printf '   %s\n' "${ran[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "== FAILED: ${failed[*]}"
  exit 1
fi
