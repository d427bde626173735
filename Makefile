# thumbprint-guard: every entry point. Each target installs what it needs (Python tools go into
# .venv via scripts/ensure-venv.sh; Rust components through rustup), so a fresh clone needs nothing
# but a Rust toolchain and python3.
SHELL := /bin/bash
comma := ,
.SHELLFLAGS := -eu -o pipefail -c
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(HOME)/.cargo/bin:$(PATH)
# Tests, the demo and the benches talk to moto and local issuers on 127.0.0.1. The probe and the
# AWS SDK both honour HTTPS_PROXY, so a machine behind a proxy (for the package registries) must
# still reach loopback directly: loopback is added to NO_PROXY, whatever else it holds.
export NO_PROXY := $(subst $() ,$(comma),$(strip $(NO_PROXY) $(no_proxy) 127.0.0.1 localhost ::1))
export no_proxy := $(NO_PROXY)
CARGO ?= cargo
LAMBDA_TARGET := aarch64-unknown-linux-gnu
# The AWS SAM CLI lives in .venv-sam (scripts/ensure-sam.sh) and is called by its path, so that PATH
# keeps .venv first: cargo-lambda and zig (`python3 -m ziglang`) come from .venv. SAM_CLI_TELEMETRY=0:
# the SAM CLI sends no usage metrics.
SAM := SAM_CLI_TELEMETRY=0 $(CURDIR)/.venv-sam/bin/sam

.PHONY: help venv sam-cli toolchain build test lint fmt validate demo bench lambda sam-build test-lambda deploy clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

venv: ## create .venv with moto server, cfn-lint, cargo-lambda, zig (pinned in requirements-dev.txt)
	@scripts/ensure-venv.sh

sam-cli: ## create .venv-sam with the AWS SAM CLI (pinned in requirements-sam.txt)
	@scripts/ensure-sam.sh

toolchain: ## make sure rustfmt and clippy are installed
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy

build: ## release build of the CLI (target/release/thumbprint-guard)
	$(CARGO) build --locked --release --bin thumbprint-guard

test: venv ## unit and end-to-end tests (local TLS issuers + moto server on 127.0.0.1)
	@mkdir -p target
	$(CARGO) build --locked --examples
	$(CARGO) test --locked --no-fail-fast --lib --bins --tests 2>&1 | tee target/test.log
	@awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($$(i+1) ~ /^passed/) p += $$i; if ($$(i+1) ~ /^failed/) f += $$i } } \
	  END { printf "tests: %d passed, %d failed\n", p, f; if (p == 0 || f > 0) exit 1 }' target/test.log \
	  | tee target/test-summary.txt

lint: toolchain venv ## formatting, clippy with warnings as errors, template lint
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(MAKE) --no-print-directory validate

fmt: ## format the code
	$(CARGO) fmt --all

# Every option of the templates switched on, so that checkov (which evaluates Conditions with the
# parameters' defaults) also scans the state table, the Security Hub, remediation and
# organization statements.
TEMPLATE_ALL_OPTIONS := StateTable=create SecurityHub=on KubernetesChecks=on RemediationMode=add OrganizationRoleName=thumbprint-guard-member \
  OrganizationExternalId=example NotificationEmail=ops@example.com OwnerTag=platform CostCenterTag=1234 \
  PermissionsBoundary=arn:aws:iam::123456789012:policy/boundary
MEMBER_ALL_OPTIONS := RemediationMode=add SecurityHub=on KubernetesChecks=on ExternalId=example PermissionsBoundary=arn:aws:iam::123456789012:policy/boundary
# BC_SKIP_MAPPING and --skip-download: checkov fetches nothing from its vendor's platform.
CHECKOV := BC_SKIP_MAPPING=TRUE $(CURDIR)/.venv-checkov/bin/checkov --framework cloudformation --compact --quiet --skip-download

validate: venv sam-cli ## lint the SAM template and member-role.yaml: cfn-lint, the real SAM transform (offline) + cfn-lint of its output, checkov (fails on any finding not fixed or skipped with a reason), sam validate --lint
	cfn-lint template.yaml member-role.yaml
	@mkdir -p target
	$(VENV)/bin/python scripts/sam-expand.py template.yaml --placeholder-code > target/template.expanded.json
	cfn-lint target/template.expanded.json
	$(VENV)/bin/python scripts/template-variant.py template.yaml $(TEMPLATE_ALL_OPTIONS) > target/template.all-options.json
	$(VENV)/bin/python scripts/template-variant.py member-role.yaml $(MEMBER_ALL_OPTIONS) > target/member-role.all-options.json
	@scripts/ensure-checkov.sh
	$(CHECKOV) -f template.yaml -f member-role.yaml -f target/template.all-options.json \
	  -f target/member-role.all-options.json -f target/template.expanded.json
	$(SAM) validate --lint --template template.yaml

demo: venv ## full sweep against moto, two local issuers (one healthy, one rotated) and an EKS cluster read with the in-cluster checks (fake Kubernetes API); stops all it starts
	$(CARGO) build --locked --bin thumbprint-guard --example demo
	$(CARGO) run --locked --quiet --example demo -- $(CURDIR)/target/debug/thumbprint-guard

# The bench builds with the bench-fast profile (release without LTO, codegen-units 16) instead of
# the release profile's LTO build; its figures are of that build (CLI and Lambda binary alike). GNU
# time measures the CLI's peak RSS and openssl runs the knowledge-center baseline: both are installed
# when missing and make runs as root.
bench: venv ## the sweep bench: CLI vs moto + local issuers with BENCH_LATENCY_MS (500) latency -> bench/results.json
	@missing=(); command -v openssl >/dev/null || missing+=(openssl); [ -x /usr/bin/time ] || missing+=(time); \
	if [ $${#missing[@]} -gt 0 ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && apt-get install -y -qq "$${missing[@]}"; \
	  else echo "bench: missing $${missing[*]} (apt-get install $${missing[*]}); openssl is required, without time peak RSS is polled"; \
	    command -v openssl >/dev/null || exit 1; fi; \
	fi
	$(CARGO) bench --locked --profile bench-fast --bench sweep

# aws-lc-sys cross-compiles as is: zig is its C compiler and it ships pregenerated aarch64 sources and
# bindings (no cmake, no bindgen, no extra environment). cargo-lambda keeps Cargo.toml's release profile
# (panic = "unwind" included) and adds -C target-cpu=neoverse-n1.
lambda: venv ## the arm64 Lambda bootstrap (target/lambda/thumbprint-guard-lambda/bootstrap): cargo-lambda + zig from .venv
	@rustup target list --installed | grep -qx $(LAMBDA_TARGET) || rustup target add $(LAMBDA_TARGET)
	@$(VENV)/bin/python -m ziglang version >/dev/null || { echo "lambda: zig is missing from .venv (PyPI ziglang): make venv"; exit 1; }
	cargo-lambda lambda build --release --locked --arm64 --bin thumbprint-guard-lambda
	@file target/lambda/thumbprint-guard-lambda/bootstrap 2>/dev/null || true
	@ls -l target/lambda/thumbprint-guard-lambda/bootstrap

# What `make deploy` builds, offline: sam build runs BuildMethod rust-cargolambda (a beta feature of the
# SAM CLI) in the source folder, i.e. `cargo lambda build --release --arm64 --bin thumbprint-guard-lambda`
# into target/lambda/, and copies the bootstrap to .aws-sam/build/Function/.
sam-build: venv sam-cli ## sam build of template.yaml (offline, telemetry off): the arm64 bootstrap through cargo-lambda -> .aws-sam/build/
	@rustup target list --installed | grep -qx $(LAMBDA_TARGET) || rustup target add $(LAMBDA_TARGET)
	@$(VENV)/bin/python -m ziglang version >/dev/null || { echo "sam-build: zig is missing from .venv (PyPI ziglang): make venv"; exit 1; }
	$(SAM) build --beta-features --template template.yaml
	@file .aws-sam/build/*/bootstrap 2>/dev/null || true
	@ls -l .aws-sam/build/*/bootstrap

test-lambda: venv ## the real Lambda binary under cargo lambda watch, invoked with events/*.json against moto and local issuers
	$(CARGO) build --locked --bin thumbprint-guard-lambda --example lambda_e2e
	$(CARGO) run --locked --quiet --example lambda_e2e -- $(VENV)/bin/cargo-lambda

deploy: sam-build ## make sam-build, then sam deploy --guided into the account of your AWS credentials
	$(SAM) deploy --guided

clean: ## remove build output (target/, .aws-sam/) and the virtualenvs
	$(CARGO) clean
	rm -rf $(VENV) .venv.lock .venv-checkov .venv-checkov.lock .venv-sam .venv-sam.lock .aws-sam
