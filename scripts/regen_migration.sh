#!/usr/bin/env bash
# Regenerate the single initial migration from the models (allowed while nothing is deployed).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/*_initial_schema.py
DATABASE_URL="sqlite:///$tmp/regen.sqlite" REDIS_URL="${REDIS_URL:-}" .venv/bin/flask --app wsgi db migrate -m "initial schema" >/dev/null 2>&1
rm -rf "$tmp"
ls migrations/versions/
