#!/usr/bin/env python3
"""Expands a SAM template (AWS::Serverless transform) into plain CloudFormation JSON, offline.

Why: CloudFormation StackSets with service-managed permissions refuse templates that use macros,
the AWS::Serverless transform included, so an organization-wide deployment needs the processed
template; and the transform catches SAM errors that cfn-lint's schema checks do not.

Usage:
  scripts/sam-expand.py TEMPLATE [--region R] [--partition P] [--account ID] [--placeholder-code]

TEMPLATE is normally the output of `sam package` (CodeUri is an s3:// URI). With
--placeholder-code, a local CodeUri (".") is replaced by s3://placeholder/code.zip so that an
unpackaged template can be expanded for inspection (tests/permissions/, `make validate`); that
output is not deployable. Prints the JSON template on stdout. Needs aws-sam-translator
(requirements-dev.txt) and cfn-lint (for its YAML loader, which understands !Sub and friends).
"""

import argparse
import json
import os
import sys

from cfnlint.decode import cfn_yaml
from samtranslator.translator.arn_generator import ArnGenerator
from samtranslator.translator.transform import transform

PLACEHOLDER_CODE = "s3://placeholder/code.zip"


class NoManagedPolicies:
    """The transform asks for AWS managed policy ARNs only for `Policies: [Name]` entries, which
    this template does not use; answering without AWS keeps the expansion offline."""

    def load(self):
        return {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--partition", default="aws")
    parser.add_argument("--account", default="123456789012")
    parser.add_argument("--placeholder-code", action="store_true")
    args = parser.parse_args()

    template = json.loads(json.dumps(cfn_yaml.load(args.template)))
    if args.placeholder_code:
        for resource in template.get("Resources", {}).values():
            props = resource.get("Properties") or {}
            if resource.get("Type") == "AWS::Serverless::Function" and isinstance(
                props.get("CodeUri"), str
            ) and not props["CodeUri"].startswith("s3://"):
                props["CodeUri"] = PLACEHOLDER_CODE
    # The translator otherwise asks boto3 for the region (partition of generated ARNs).
    ArnGenerator.BOTO_SESSION_REGION_NAME = args.region
    os.environ["AWS_DEFAULT_REGION"] = args.region
    parameters = {
        "AWS::Region": args.region,
        "AWS::Partition": args.partition,
        "AWS::AccountId": args.account,
    }
    try:
        expanded = transform(template, parameters, NoManagedPolicies())
    except Exception as error:  # the translator raises several unrelated types
        print(f"sam-expand: {args.template}: {error}", file=sys.stderr)
        return 1
    json.dump(expanded, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
