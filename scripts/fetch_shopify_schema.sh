#!/usr/bin/env bash
# Re-obtain Shopify's official Admin GraphQL introspection (the sandbox's test contract) from the npm registry.
# Usage: scripts/fetch_shopify_schema.sh [version]   (default 2026-07; needs npm)
set -euo pipefail
VERSION="${1:-2026-07}"
PACKAGE="@shopify/dev-mcp@1.16.0"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack "$PACKAGE" >/dev/null
tar -xzf shopify-dev-mcp-1.16.0.tgz "package/dist/data/admin_${VERSION}.json.gz"
mkdir -p "$ROOT/tests/fixtures/shopify"
cp "package/dist/data/admin_${VERSION}.json.gz" "$ROOT/tests/fixtures/shopify/admin-${VERSION}.json.gz"
sha256sum "$ROOT/tests/fixtures/shopify/admin-${VERSION}.json.gz"
