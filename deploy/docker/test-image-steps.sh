#!/bin/sh
# Runs the Dockerfile's steps outside a container, where no Docker engine is at hand: the COPY lines into a fresh
# /app, the build (tsc), and the entrypoint with a state volume. `npm ci` is replaced by the repository's installed
# node_modules (no package registry here), and the image itself is not built: see deploy/README.md.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
dockerfile="$repo/deploy/docker/Dockerfile"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
app="$work/app"
state="$work/state"
mkdir -p "$app" "$state"

# COPY <src>... <dest> of the build stage, relative to the build context (the repository root).
grep -E '^COPY [^-]' "$dockerfile" | while read -r line; do
  set -- $line
  shift
  dest=$(eval "echo \${$#}")
  while [ $# -gt 1 ]; do
    case "$dest" in
      ./) cp -R "$repo/$1" "$app/" ;;
      *) mkdir -p "$app/$(dirname "$dest")" && cp -R "$repo/$1" "$app/$dest" ;;
    esac
    shift
  done
done

# RUN npm ci ...: the installed packages instead.
ln -s "$repo/node_modules" "$app/node_modules"
# RUN npx tsc -p tsconfig.json
(cd "$app" && npx tsc -p tsconfig.json)

# ENTRYPOINT ["node", "/app/bin/edfi-sync.js"], CMD ["--help"]
entry() { node "$app/bin/edfi-sync.js" "$@"; }
entry --help > "$work/help.txt"
grep -q 'Exit codes:' "$work/help.txt"
entry connections --profile core --snapshot "$app/demo/demo-snapshot.sqlite" --format json > "$work/connections.json"
grep -q '"key"' "$work/connections.json"
# A run whose state file is on the volume: created there, and nothing else written into /app.
entry sync --profile core --snapshot "$app/demo/demo-snapshot.sqlite" --state "$state/core.sqlite" --dry-run --out "$work/plan.jsonl" --quiet
test -s "$state/core.sqlite"
test -s "$work/plan.jsonl"
if find "$app" -newer "$work/help.txt" -name '*.sqlite' | grep -q .; then
  echo "a state file was written inside /app" >&2
  exit 1
fi
echo "image steps ok"
