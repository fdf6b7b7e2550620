/* Code generation of an exported controller: a directory that builds on its
 * own, holding the generated sf_ctrl_weights.h (the network's shape and
 * parameters in the chosen format, and a test vector of recorded
 * observations with the actions the exported code must produce), the
 * embedded module's sources, a self-test program, a Makefile and a README. */
#ifndef SF_CODEGEN_H
#define SF_CODEGEN_H

#include <stddef.h>
#include <stdint.h>

#include "export/sf_quant.h"
#include "export/sf_snn_net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SF_EXPORT_FLOAT32 = 0, SF_EXPORT_INT8 = 1 } sf_export_format;

/* A recorded observation sequence: steps[n][n_in] with reset[n] non-zero
 * where an episode starts (the controller is reset before that step). */
typedef struct {
  const float *obs;
  const uint8_t *reset;
  int steps;
} sf_obs_seq;

/* The embedded module (its float32 or int8 kernel, as compiled for the
 * host) for n independent instances, each with its own state; q is used for
 * int8 only. NULL when out of memory. */
typedef struct sf_module sf_module;
sf_module *sf_module_new(sf_export_format fmt, const sf_snn_net *net, const sf_quant_net *q, int n);
void sf_module_free(sf_module *m);
void sf_module_reset(sf_module *m, int k);
void sf_module_step(sf_module *m, int k, const float *obs, float *act);
/* Spike counts of instance k's last step. */
void sf_module_spikes(const sf_module *m, int k, int *spikes1, int *spikes2);

/* Runs the embedded module (the float32 or int8 kernel, as compiled for the
 * host) over a sequence; act[steps][n_out]. q is used for int8 only.
 * Returns 0, or -1 when out of memory. Optional spike counts per step
 * (spikes1/spikes2 [steps]) may be NULL. */
int sf_export_run_module(sf_export_format fmt, const sf_snn_net *net, const sf_quant_net *q,
                         const sf_obs_seq *seq, float *act, int *spikes1, int *spikes2);

typedef struct {
  sf_export_format format;
  const sf_snn_net *net;
  const sf_quant_net *q; /* int8 only */
  sf_obs_seq test;       /* test vector written into the header */
  const char *source_dir;/* the embedded/ folder whose sources are copied */
  const char *origin;    /* one line saying where the network came from */
} sf_export_spec;

/* The embedded/ folder of the source tree this program was built from. */
const char *sf_export_default_sources(void);

/* Writes the directory (created if missing). The files are written into a
 * staging directory beside it and moved in only when all are complete: a
 * failure (a full disk) leaves an earlier export as it was. Re-exporting in
 * another format removes the other format's kernel and the old build
 * products; files the export does not write are left alone. Returns 0, or -1
 * with a message naming the file in err. */
int sf_export_write(const sf_export_spec *spec, const char *out_dir, char *err, size_t errlen);

/* Before the work: `out_dir` is a directory or can be created. 0 or -1. */
int sf_export_check_dir(const char *out_dir, char *err, size_t errlen);

/* Bytes of the exported network's constant data (weights, biases, beta,
 * thresholds, scales, tables) and of its state (membranes, spikes and
 * scratch), as the generated code declares them. */
size_t sf_export_flash_bytes(sf_export_format fmt, const sf_snn_net *net);
size_t sf_export_state_bytes(sf_export_format fmt, const sf_snn_net *net);

#ifdef __cplusplus
}
#endif
#endif
