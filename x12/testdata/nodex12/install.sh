#!/usr/bin/env bash
# Installs node-x12, the independent X12 parser the x12 package's tests read
# our 835s back with, into x12/testdata/nodex12/node_modules (npm ci: the
# exact version and hash of package-lock.json). Needs node and npm (Debian:
# apt-get install -y nodejs npm). The test runs this itself when the module
# is missing; CI may call it up front: bash x12/testdata/nodex12/install.sh
set -euo pipefail
cd "$(dirname "$0")"
if [ -f node_modules/node-x12/package.json ]; then
	exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
