/* Shared definitions for every spikefly module: the host+device marker for
 * per-element inline arithmetic, and the project's error codes. */
#ifndef SF_DEFS_H
#define SF_DEFS_H

/* SF_HD marks a function that is compiled for both the CPU loops and the CUDA
 * kernels. Per-element arithmetic (one environment's RK4 step, one neuron's
 * LIF update) is written once with this marker so the CPU tests exercise the
 * very code the GPU runs. */
#if defined(__CUDACC__)
#define SF_HD __host__ __device__ __forceinline__
#else
#define SF_HD static inline
#endif

/* SF_UNROLL_FULL: unroll the constant-trip loop that follows completely,
 * so that a CPU loop over envs around the function can run in vector lanes
 * (GCC vectorises only a loop whose body has no loops left). */
#if defined(__CUDA_ARCH__) || defined(__clang__)
#define SF_UNROLL_FULL _Pragma("unroll")
#elif defined(__CUDACC__) /* the host side of a .cu file: no loop over envs */
#define SF_UNROLL_FULL
#elif defined(__GNUC__)
#define SF_UNROLL_FULL _Pragma("GCC unroll 32")
#else
#define SF_UNROLL_FULL
#endif

/* Exit codes of the command-line program. */
enum {
  SF_EXIT_OK = 0,
  SF_EXIT_FAIL = 1,  /* a run that started and failed (I/O, divergence) */
  SF_EXIT_USAGE = 2, /* bad input: command line, config, missing file */
  SF_EXIT_INTERRUPTED = 130, /* stopped on request (Ctrl-C): a shell's 128 + SIGINT */
};

#define SF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The version every command reports and every run directory records. */
#define SF_VERSION "0.1.0"

#endif
