#!/usr/bin/env bash
# Quick start, main job: install, build, and fly the reference controller.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./build/spikefly fly --controller pid --trajectory hover "$@"
