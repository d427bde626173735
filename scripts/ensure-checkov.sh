#!/usr/bin/env bash
# Creates .venv-checkov with the pinned checkov (requirements-checkov.txt) when it is missing or
# that file changed. A virtualenv of its own: checkov pins boto3/botocore versions that moto in
# .venv must not get (see requirements-checkov.txt). Safe to run concurrently.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-checkov"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$root/requirements-checkov.txt" | cut -d' ' -f1)"
exec 9>"$root/.venv-checkov.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/checkov" ]; then
  exit 0
fi
python3=${PYTHON:-python3}
command -v "$python3" >/dev/null || { echo "ensure-checkov: python3 is required (apt-get install python3 python3-venv)" >&2; exit 1; }
echo "ensure-checkov: installing checkov into $venv (about 1.5 minutes)" >&2
"$python3" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/requirements-checkov.txt"
echo "$want" > "$stamp"
