# thumbprint-guard: every entry point. Each target installs what it needs (Python tools go into
# .venv via scripts/ensure-venv.sh; Rust components through rustup), so a fresh clone needs nothing
# but a Rust toolchain and python3.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo
LAMBDA_TARGET := aarch64-unknown-linux-gnu

.PHONY: help venv toolchain build test lint fmt validate demo bench lambda test-lambda deploy clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

venv: ## create .venv with moto server, cfn-lint, cargo-lambda, zig (pinned in requirements-dev.txt)
	@scripts/ensure-venv.sh

toolchain: ## make sure rustfmt and clippy are installed
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy

build: ## release build of the CLI (target/release/thumbprint-guard)
	$(CARGO) build --locked --release --bin thumbprint-guard

test: venv ## unit and end-to-end tests (local TLS issuers + moto server on 127.0.0.1)
	$(CARGO) test --locked --lib --bins --tests --examples

lint: toolchain venv ## formatting, clippy with warnings as errors, template lint
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(MAKE) --no-print-directory validate

fmt: ## format the code
	$(CARGO) fmt --all

validate: venv ## lint the SAM template (cfn-lint; sam validate --lint too when the SAM CLI is installed)
	@if [ -f template.yaml ]; then cfn-lint template.yaml; else echo "validate: no template.yaml yet"; fi
	@if [ -f template.yaml ] && command -v sam >/dev/null; then sam validate --lint --template template.yaml; fi

demo: venv ## full sweep against moto and two local issuers (one healthy, one rotated); stops all it starts
	$(CARGO) build --locked --bin thumbprint-guard --example demo
	$(CARGO) run --locked --quiet --example demo -- $(CURDIR)/target/debug/thumbprint-guard

bench: venv ## benchmarks: sweep throughput and memory against local issuers
	$(CARGO) bench --locked --bench sweep

lambda: venv ## the arm64 Lambda bootstrap (target/lambda/thumbprint-guard-lambda/bootstrap)
	@rustup target list --installed | grep -qx $(LAMBDA_TARGET) || rustup target add $(LAMBDA_TARGET)
	cargo-lambda lambda build --release --arm64 --bin thumbprint-guard-lambda
	@file target/lambda/thumbprint-guard-lambda/bootstrap 2>/dev/null || true
	@ls -l target/lambda/thumbprint-guard-lambda/bootstrap

deploy: ## sam build + sam deploy --guided (needs the SAM CLI and AWS credentials)
	@command -v sam >/dev/null || { echo "deploy: install the AWS SAM CLI first (pip install aws-sam-cli)"; exit 2; }
	sam build --beta-features
	sam deploy --guided

clean: ## remove build output and the virtualenv
	$(CARGO) clean
	rm -rf $(VENV) .venv.lock
