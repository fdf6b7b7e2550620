# Sourced by scripts/run.sh and bench/peers/run.sh: pick OpenBLAS's AVX-512
# kernels on AMD processors that have AVX-512 (Zen 4 and later). Debian 12's
# OpenBLAS (0.3.21) does not recognise them and runs its AVX2 (Haswell)
# kernels there; its SkylakeX kernels are the AVX-512 ones. Measured on the
# development machine (AMD EPYC, family 26): the SNN's BPTT at batch 256 one
# thread 1.19x faster (bench_snn 5 256 1). A value already set wins, so
# OPENBLAS_CORETYPE=Haswell restores the default. Results stay independent
# of the thread count; their last bits depend on the kernels, as they
# already do from one processor to another.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q '^vendor_id.*AuthenticAMD' /proc/cpuinfo 2>/dev/null; then
  flags=$(grep -m1 '^flags' /proc/cpuinfo)
  case " $flags " in
    *" avx512f "*" avx512dq "*" avx512bw "*" avx512vl "*) export OPENBLAS_CORETYPE=SkylakeX ;;
  esac
  unset flags
fi
