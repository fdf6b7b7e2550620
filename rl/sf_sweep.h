/* Sweeps in one process: `--sweep key=v1,v2,...` (repeatable) expands into
 * the Cartesian grid of settings, one agent of the population per point
 * (the first sweep varies slowest). Each agent gets its own copy of the run's
 * config with its point's values set, so everything downstream reads an
 * agent's settings the ordinary way. */
#ifndef SF_SWEEP_H
#define SF_SWEEP_H

#include "core/sf_config.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SF_SWEEP_MAX_KEYS 8
#define SF_SWEEP_MAX_VALUES 64
#define SF_MAX_AGENTS 256

typedef struct {
  int nkeys;
  char key[SF_SWEEP_MAX_KEYS][96];
  int nvalues[SF_SWEEP_MAX_KEYS];
  char value[SF_SWEEP_MAX_KEYS][SF_SWEEP_MAX_VALUES][32];
} sf_sweep;

/* Add one "key=v1,v2,..." spec. Returns 0, or -1 with a message in err. */
int sf_sweep_add(sf_sweep *s, const char *spec, char *err, size_t errlen);
/* Number of grid points (1 with no sweep). */
int sf_sweep_size(const sf_sweep *s);
/* Value index of sweep key k at grid point i. */
int sf_sweep_index(const sf_sweep *s, int point, int k);
/* A copy of base with point i's values set. A sweep key whose values name
 * sections of base is a variant group: `actor = snn, ann` with sections
 * [actor.snn] and [actor.ann] sets, at each point, the keys of that value's
 * section (several keys that vary together, where a grid of each would be
 * a Cartesian product), and the copy holds no [actor.*] section. */
sf_config *sf_sweep_config(const sf_sweep *s, const sf_config *base, int point);
/* Whether base has the section [KEY.VALUE] of value v of sweep key k (of
 * any of its values when v < 0: then k is a variant group). */
int sf_sweep_variant_section(const sf_sweep *s, int k, int v, const sf_config *base);
/* The key that config key `cfgkey` sets when it lies in a section
 * [KEY.VALUE] of a sweep key's value ("train.hidden" for
 * "actor.snn.train.hidden"), or NULL. */
const char *sf_sweep_variant_key(const sf_sweep *s, const char *cfgkey);
/* "key=value key=value" of point i, leaving out the key `skip` (e.g. "seed",
 * to group seeds of one setting); empty with no sweep. */
void sf_sweep_label(const sf_sweep *s, int point, const char *skip, char *out, size_t len);

#ifdef __cplusplus
}
#endif
#endif
