#!/usr/bin/env bash
# Creates .venv-sam with the pinned AWS SAM CLI (requirements-sam.txt) when it is missing or that
# file changed. A virtualenv of its own: the SAM CLI pins a boto3 that .venv must not get (see
# requirements-sam.txt). Safe to run concurrently.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-sam"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$root/requirements-sam.txt" | cut -d' ' -f1)"
exec 9>"$root/.venv-sam.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/sam" ]; then
  exit 0
fi
python3=${PYTHON:-python3}
command -v "$python3" >/dev/null || { echo "ensure-sam: python3 is required (apt-get install python3 python3-venv)" >&2; exit 1; }
echo "ensure-sam: installing the AWS SAM CLI into $venv" >&2
"$python3" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/requirements-sam.txt"
echo "$want" > "$stamp"
