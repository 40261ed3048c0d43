#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine: system packages (Chromium for rendering,
# ffmpeg for rollout videos) and the npm dependencies. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
# rclnodejs is optional: without a sourced ROS 2 its install script fails and npm drops it.
# Its own typings are still needed so tsc checks our rclnodejs transport against them.
if [ ! -f node_modules/rclnodejs/package.json ]; then
  npm install --ignore-scripts --no-save --no-audit --no-fund rclnodejs@2.2.0
fi
