#!/usr/bin/env bash
# Creates .venv with the pinned Python tools (moto server, cfn-lint, cargo-lambda, zig) when it is
# missing or requirements-dev.txt changed. Safe to run concurrently (tests and make share it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$root/requirements-dev.txt" | cut -d' ' -f1)"
exec 9>"$root/.venv.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/moto_server" ]; then
  exit 0
fi
python3=${PYTHON:-python3}
command -v "$python3" >/dev/null || { echo "ensure-venv: python3 is required (apt-get install python3 python3-venv)" >&2; exit 1; }
echo "ensure-venv: installing $(grep -vc '^#' "$root/requirements-dev.txt") Python tools into $venv" >&2
"$python3" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/requirements-dev.txt"
echo "$want" > "$stamp"
