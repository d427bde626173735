#!/usr/bin/env python3
"""Prints a CloudFormation/SAM template as JSON with other parameter defaults, unchanged otherwise.

Why: checkov evaluates a template's Conditions with the parameters' defaults, so a resource or
statement behind an option that is off by default (the state table, Security Hub, remediation,
organization mode) is never scanned. `make validate` scans the template once as it is and once
with every option on.

Usage:
  scripts/template-variant.py TEMPLATE [NAME=VALUE ...]

With no NAME=VALUE it prints the template as it is, as JSON (tests/permissions reads
member-role.yaml that way).

Fails when NAME is not a parameter of TEMPLATE or VALUE is not among its AllowedValues. Needs
cfn-lint (requirements-dev.txt) for its YAML loader, which understands !Sub and friends.
"""

import json
import sys

from cfnlint.decode import cfn_yaml


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path, assignments = sys.argv[1], sys.argv[2:]
    template = json.loads(json.dumps(cfn_yaml.load(path)))
    parameters = template.get("Parameters", {})
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or name not in parameters:
            print(f"template-variant: {path} has no parameter {name!r}", file=sys.stderr)
            return 2
        allowed = parameters[name].get("AllowedValues")
        if allowed is not None and value not in [str(v) for v in allowed]:
            print(f"template-variant: {name}={value!r} is not in {allowed}", file=sys.stderr)
            return 2
        parameters[name]["Default"] = value
    json.dump(template, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
