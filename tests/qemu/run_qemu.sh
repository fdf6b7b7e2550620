#!/usr/bin/env bash
# ctest `embedded_qemu`: export a network as float32 and as int8, build each
# for the host (its self-test) and cross-compile it for Cortex-M4
# (netduinoplus2, an STM32F405) and Cortex-M7 (mps2-an500), run the
# bare-metal harness under qemu-system-arm with semihosting, and require the
# actions printed on the target to equal the host build's: bit for bit for
# int8; for float32 within one unit in the last place, because the float
# arithmetic is the same operation for operation (IEEE single, no fused
# multiply-add on either side) but the final tanhf comes from each C library
# (glibc on the host, newlib on the target); the differing actions are counted.
# Prints code size and static RAM (arm-none-eabi-size) and instructions per
# control step (QEMU -icount + SysTick, see embedded/baremetal/harness.c).
#
# usage: run_qemu.sh SPIKEFLY WORKDIR [CHECKPOINT]
# Without a checkpoint the network is drawn from a fixed seed (untrained).
set -euo pipefail
spikefly=$1
work=$2
checkpoint=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

for tool in arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm make cc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "embedded_qemu: $tool not found (scripts/setup.sh installs gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm)" >&2
    exit 1
  fi
done

# Prints "DIFFER FAR": how many actions differ and how many by more than one
# ulp, between two files of "act STEP HEX HEX HEX HEX" lines.
compare_ulps() {
  local differ=0 far=0
  if [ "$(wc -l < "$1")" -ne "$(wc -l < "$2")" ]; then
    echo "1 1"
    return
  fi
  while read -r -a a && read -r -a b <&3; do
    for k in 2 3 4 5; do
      local x=$((16#${a[$k]})) y=$((16#${b[$k]}))
      if [ "$x" -ne "$y" ]; then
        differ=$((differ + 1))
        local d=$((x > y ? x - y : y - x))
        # a sign change (bit 31) counts as far
        if [ "$d" -gt 1 ]; then far=$((far + 1)); fi
      fi
    done
  done < "$1" 3< "$2"
  echo "$differ $far"
}

rm -rf "$work"
mkdir -p "$work"
if [ -n "$checkpoint" ]; then source=("$checkpoint"); else source=(--random-init 7); fi

# The network's activity, on which the instruction counts depend.
"$spikefly" metrics "${source[@]}" --episodes 20 | grep -E '^(activation|synaptic)' | sed 's/^/[network] /'

fail=0
for fmt in float32 int8; do
  out="$work/$fmt"
  "$spikefly" export "${source[@]}" --format "$fmt" --out "$out/ctrl" --test-steps 200 | sed "s/^/[$fmt] /"
  make -s -C "$out/ctrl" >/dev/null
  "$out/ctrl/sf_ctrl_selftest" > "$out/host.txt" || { echo "[$fmt] host self-test failed"; fail=1; }
  grep '^act ' "$out/host.txt" > "$out/host_act.txt"
  for target in m4 m7; do
    make -s -C "$root/embedded/baremetal" CTRL="$out/ctrl" TARGET="$target" OUT="$out/$target" >/dev/null
    status=0
    timeout 300 make -s -C "$root/embedded/baremetal" CTRL="$out/ctrl" TARGET="$target" OUT="$out/$target" run \
      > "$out/$target/qemu.txt" 2>&1 || status=$?
    grep '^act ' "$out/$target/qemu.txt" > "$out/$target/act.txt" || true
    steps=$(wc -l < "$out/$target/act.txt")
    echo "[$fmt $target] $(grep '^target:' "$out/$target/qemu.txt" || echo 'target: no output')"
    if [ "$status" -ne 0 ]; then
      echo "[$fmt $target] QEMU run failed (exit $status):"
      grep -v '^act ' "$out/$target/qemu.txt" | tail -5
      fail=1
    elif cmp -s "$out/host_act.txt" "$out/$target/act.txt"; then
      echo "[$fmt $target] $steps steps: every action identical to the host build, bit for bit"
    else
      read -r differ far <<< "$(compare_ulps "$out/host_act.txt" "$out/$target/act.txt")"
      if [ "$fmt" = float32 ] && [ "$far" -eq 0 ]; then
        echo "[$fmt $target] $steps steps: every action within one ulp of the host build; $differ of $((4 * steps)) differ in the last bit (tanhf of newlib vs glibc)"
      else
        echo "[$fmt $target] actions differ from the host build ($differ differ, $far by more than one ulp):"
        diff "$out/host_act.txt" "$out/$target/act.txt" | head -6
        fail=1
      fi
    fi
    grep -E '^(check|instructions|calibration)' "$out/$target/qemu.txt" | sed "s/^/[$fmt $target] /"
    # Controller alone (no test vector): flash = text + data, static RAM = data + bss.
    awk -v tag="[$fmt $target]" '/\(TOTALS\)/ {printf "%s controller: flash %d bytes (text %d + data %d), static RAM %d bytes (data + bss)\n", tag, $1 + $2, $1, $2, $2 + $3}' "$out/$target/sizes.txt"
  done
done
if [ "$fail" -ne 0 ]; then
  echo "embedded_qemu: FAILED"
  exit 1
fi
echo "embedded_qemu: all target runs match the host"
