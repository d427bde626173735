#!/usr/bin/env bash
# The AWS knowledge-center procedure for an OIDC provider's thumbprint, by hand, one provider after
# another (the serial baseline of `make bench`):
#   openssl s_client -servername HOST -showcerts -connect HOST:PORT </dev/null
#   -> the last certificate printed -> openssl x509 -fingerprint -sha1 -noout
#   aws iam get-open-id-connect-provider --open-id-connect-provider-arn ARN (the configured list)
# The article also fetches the discovery document first to find the JWKS host; this baseline skips
# that step (the JWKS host is the issuer's here), so it does less work than thumbprint-guard.
#
# Usage: scripts/knowledge-center-thumbprints.sh AWS_ENDPOINT_URL < providers
#   providers: one "HOST PORT ARN" line per provider. AWS credentials and region from the
#   environment; AWS_CLI names the aws binary (default: aws).
# Prints one "ARN SERVED-SHA1 CONFIGURED-THUMBPRINTS" line per provider (SHA-1 lowercase hex).
set -euo pipefail
endpoint=${1:?usage: $0 AWS_ENDPOINT_URL < providers}
aws=${AWS_CLI:-aws}
while read -r host port arn; do
  [ -n "$host" ] || continue
  last=$(openssl s_client -servername "$host" -showcerts -connect "$host:$port" </dev/null 2>/dev/null |
    awk '/-----BEGIN CERTIFICATE-----/ { block = "" ; inside = 1 }
         inside { block = block $0 "\n" }
         /-----END CERTIFICATE-----/ { inside = 0 ; last = block }
         END { printf "%s", last }')
  if [ -z "$last" ]; then
    served=none
  else
    served=$(printf '%s' "$last" | openssl x509 -fingerprint -sha1 -noout | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
  fi
  configured=$("$aws" iam get-open-id-connect-provider --open-id-connect-provider-arn "$arn" \
    --endpoint-url "$endpoint" --query ThumbprintList --output text)
  echo "$arn $served $configured"
done
