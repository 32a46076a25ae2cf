#!/usr/bin/env bash
# Installs the Debian packages the integration tests use besides Node and the
# test cluster: tinyproxy (test/integration/proxy.test.ts). Idempotent: does
# nothing when every tool is already on PATH. Needs root or sudo otherwise.
set -euo pipefail

missing=()
command -v tinyproxy >/dev/null 2>&1 || missing+=(tinyproxy)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# On hosts with systemd the package starts a tinyproxy service on port 8888; the
# tests start their own, so leave nothing extra running.
if [[ " ${missing[*]} " == *" tinyproxy "* ]] && command -v systemctl >/dev/null 2>&1 \
  && systemctl is-active --quiet tinyproxy 2>/dev/null; then
  "${sudo[@]}" systemctl disable --now tinyproxy >/dev/null 2>&1 || true
fi
