/* Surrogate-gradient slope schedules: how an agent's fast-sigmoid slope k
 * changes during training. One schedule object per agent; the trainer calls
 * sf_slope_update() after each evaluation and uses sf_slope_k() until the
 * next one.
 *
 *   fixed     k = k_start throughout.
 *   interval  k rises from k_start to k_max in `steps` equal increments, one
 *             every `interval` epochs.
 *   adaptive  from the last `window` normalised evaluation returns x_i and
 *             their differences x'_i = x_i - x_{i-1}:
 *               s = mean_i (0.5 x_i + 0.5 x'_i),
 *               k = clamp(k_start + (k_max - k_start) s^order, k_min, k_cap)
 *             (s^order keeps the sign of s), so rising returns steepen the
 *             surrogate, a plateau holds it, and falling returns flatten it
 *             again to widen the gradient's reach. x = R / return_scale,
 *             clamped to [-1, 1]; return_scale is the return counted as
 *             success (400, the paper's reward range (0, 400)).
 */
#ifndef SF_SLOPE_SCHEDULE_H
#define SF_SLOPE_SCHEDULE_H

#include "core/sf_config.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SF_SLOPE_WINDOW_MAX 64

typedef enum { SF_SLOPE_FIXED = 0, SF_SLOPE_INTERVAL = 1, SF_SLOPE_ADAPTIVE = 2 } sf_slope_kind;

typedef struct {
  sf_slope_kind kind;
  float k_start;      /* the slope before any evaluation (fixed: always) */
  float k_max;        /* interval/adaptive: the slope they rise towards */
  float k_min, k_cap; /* adaptive clamp bounds: 1 and 100 */
  int interval;       /* interval: epochs between increments */
  int steps;          /* interval: number of increments from k_start to k_max */
  int window;         /* adaptive: evaluations averaged (10) */
  float order;        /* adaptive: exponent on s (3) */
  float return_scale; /* adaptive: return that normalises to 1 (400) */
} sf_slope_config;

typedef struct {
  sf_slope_config cfg;
  float k;
  int n_evals;
  int nhist;                              /* returns held, at most window + 1 */
  float hist[SF_SLOPE_WINDOW_MAX + 1];    /* normalised returns, oldest first */
} sf_slope_schedule;

/* The paper's defaults for a kind: fixed k 2 (use --slope to change),
 * interval 2 -> 100 in 10 steps every 10 epochs, adaptive 2 -> 100, window
 * 10, order 3, clamp [1, 100]. */
sf_slope_config sf_slope_default(sf_slope_kind kind);
/* Read `<prefix>.schedule` (fixed|interval|adaptive) and its parameters
 * (`<prefix>.slope`, `.slope_max`, `.slope_interval`, `.slope_steps`,
 * `.slope_window`, `.slope_order`, `.return_scale`); errors are recorded in
 * cfg. */
sf_slope_config sf_slope_config_read(sf_config *cfg, const char *prefix);

void sf_slope_init(sf_slope_schedule *s, const sf_slope_config *cfg);
/* Feed one evaluation: the epoch it was taken after and its mean return.
 * Returns the new slope. */
float sf_slope_update(sf_slope_schedule *s, int epoch, float eval_return);
static inline float sf_slope_k(const sf_slope_schedule *s) { return s->k; }

/* State for checkpoints as a flat float64 vector: the config is not part of
 * it (it comes from the run's config). */
#define SF_SLOPE_STATE_LEN (3 + SF_SLOPE_WINDOW_MAX + 1)
void sf_slope_state_save(const sf_slope_schedule *s, double out[SF_SLOPE_STATE_LEN]);
/* Returns 0, or -1 when the vector is not a valid state. */
int sf_slope_state_load(sf_slope_schedule *s, const double in[SF_SLOPE_STATE_LEN]);

const char *sf_slope_kind_name(sf_slope_kind kind);

#ifdef __cplusplus
}
#endif
#endif
