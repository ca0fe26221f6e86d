#!/usr/bin/env bash
# Build the front-end assets into static/dist (git-ignored).
# Run from anywhere after `npm ci`; safe to run again (the output is rebuilt from scratch).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

govuk=node_modules/govuk-frontend/dist/govuk
if [[ ! -d "$govuk" ]]; then
  echo "static/build.sh: $govuk is missing; run 'npm ci' first" >&2
  exit 1
fi

rm -rf static/dist
mkdir -p static/dist/govuk/assets

npx --no-install sass --pkg-importer=node --style=compressed --no-source-map \
  static/scss/app.scss static/dist/app.css

# Images and the manifest only: the GDS Transport fonts are for GOV.UK services.
cp -R "$govuk/assets/images" static/dist/govuk/assets/images
cp "$govuk/assets/manifest.json" static/dist/govuk/assets/manifest.json
cp "$govuk/govuk-frontend.min.js" static/dist/govuk/govuk-frontend.min.js

# Our scripts: files, since the Content-Security-Policy runs no inline script.
cp static/js/*.js static/dist/

if grep -q "GDS Transport" static/dist/app.css; then
  echo "static/build.sh: static/dist/app.css mentions GDS Transport" >&2
  exit 1
fi

echo "static/build.sh: built static/dist"
