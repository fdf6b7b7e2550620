#!/usr/bin/env bash
# Quick start, tests: install, build, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
status=0
(cd build && ctest --output-on-failure -j "$jobs" "$@") || status=$?

# Second pass: the unit tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer (label sanitize) in build-asan, CPU backend only.
# UBSan stops at its first report so that a finding fails the test. MPI is
# left out of this build: Open MPI's own allocations read as leaks to
# LeakSanitizer (the MPI tests run in the first pass).
# SF_SANITIZE_PASS=0 skips this pass.
if [ "${SF_SANITIZE_PASS:-1}" != 0 ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Release -DSF_SANITIZE=ON -DSF_WITH_CUDA=OFF -DSF_WITH_MPI=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
  (cd build-asan && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    ctest -L sanitize --output-on-failure -j "$jobs") || status=$?
fi
exit $status
