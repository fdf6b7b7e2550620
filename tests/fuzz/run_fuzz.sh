#!/usr/bin/env bash
# Build one libFuzzer harness with clang and run it for a bounded time:
#   tests/fuzz/run_fuzz.sh NAME SECONDS OUT_DIR
# NAME is config, cli or safetensors (tests/fuzz/fuzz_NAME.c). The seed
# corpus tests/fuzz/corpus/NAME is read, never written: new inputs go to a
# scratch copy. A crash, leak, timeout or undefined behaviour fails the run;
# the input that caused it is kept as OUT_DIR/NAME-crash-* (or -leak-, -timeout-)
# and the command to reproduce it is printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
name=${1:?usage: run_fuzz.sh NAME SECONDS OUT_DIR}
secs=${2:?usage: run_fuzz.sh NAME SECONDS OUT_DIR}
out=${3:?usage: run_fuzz.sh NAME SECONDS OUT_DIR}
cc=${SF_FUZZ_CC:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
  echo "FAIL: $cc not found; fuzzing needs clang with libFuzzer (Debian: clang libclang-rt-dev, see scripts/setup.sh)" >&2
  exit 1
fi
case "$name" in
  config) sources=(core/sf_config.c core/sf_fileio.c); libs=$(pkg-config --libs inih) ;;
  cli) sources=(cli/sf_cli.c core/sf_config.c core/sf_fileio.c); libs=$(pkg-config --libs inih) ;;
  safetensors) sources=(core/sf_safetensors.c core/sf_fileio.c); libs= ;;
  *) echo "run_fuzz.sh: unknown harness '$name'" >&2; exit 2 ;;
esac

mkdir -p "$out"
out=$(cd "$out" && pwd)
bin="$out/fuzz_$name"
# shellcheck disable=SC2086
"$cc" -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$src" $(pkg-config --cflags inih) "$here/fuzz_$name.c" "${sources[@]/#/$src/}" -o "$bin" $libs

# Scratch space in memory when there is some: the safetensors harness writes
# (and fsyncs) a file per input.
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
work=$(mktemp -d "$base/sf_fuzz_$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
printf '[fly]\nenvs = 8\nseed = 3\n' > "$work/a.ini"

dict=()
[ -f "$here/$name.dict" ] && dict=(-dict="$here/$name.dict")
cd "$work"
set +e
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -close_fd_mask=3 \
  -print_final_stats=1 -artifact_prefix="$out/$name-" "${dict[@]}" corpus "$src/tests/fuzz/corpus/$name" >log 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
  tail -n 60 log
  echo "FAIL: fuzz_$name found a problem (exit $rc); reproduce with: $bin $out/$name-<crash|leak|timeout>-*" >&2
  exit 1
fi
grep -E "^stat::number_of_executed_runs|^stat::new_units_added|^#[0-9]+.*DONE" log || true
echo "ok: fuzz_$name ran ${secs}s without a finding"
