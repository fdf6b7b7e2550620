# Sourced by bench/peers/run.sh, whose reference GEMM rate (bench_gemm) is
# OpenBLAS's: pick OpenBLAS's AVX-512 kernels on AMD processors that have
# AVX-512 (Zen 4 and later), which Debian 12's OpenBLAS (0.3.21) does not
# recognise (it runs its AVX2 kernels there), so that the reference is the
# fastest this OpenBLAS can do. A value already set wins. The engine itself
# runs its own kernel on such processors (models/sf_gemm.c) and calls
# OpenBLAS only where AVX-512 is missing.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -q '^vendor_id.*AuthenticAMD' /proc/cpuinfo 2>/dev/null; then
  flags=$(grep -m1 '^flags' /proc/cpuinfo)
  case " $flags " in
    *" avx512f "*" avx512dq "*" avx512bw "*" avx512vl "*) export OPENBLAS_CORETYPE=SkylakeX ;;
  esac
  unset flags
fi
