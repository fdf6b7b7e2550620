/* Experiments as files (experiments/NAME.ini): the settings of a paper's
 * figure or table, its grid and its scales in one INI file.
 *
 *   [experiment] name = fig3          the experiment (kept in each run's config.ini)
 *                scale = cpu          which [scale.NAME] applies (default paper)
 *   [train] ... [model] ...           settings, as in any config
 *   [sweep] seed = 0,1,2              the grid, as --sweep KEY=V1,V2 (repeatable)
 *   [scale.cpu] train.epochs = 30     keys of one scale: they apply unless the
 *                                     command line sets the key itself
 *
 * Swept keys an agent may take its own value of (seed, learning rates,
 * slopes: sf_is_agent_key) form one population trained side by side; the
 * others (train.algo, train.bc, train.jumpstart, train.actor ...) split the
 * grid into consecutive populations, each a run directory of its own under
 * the experiment's, listed in its populations.txt. */
#ifndef SF_EXPERIMENT_H
#define SF_EXPERIMENT_H

#include <stddef.h>

#include "core/sf_config.h"
#include "rl/sf_sweep.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Apply an experiment's sections to `base`: the [sweep] keys go to `sw`,
 * the chosen scale's keys to base unless `given` (the command line) has
 * them; every sweep.* and scale.* key leaves base. 0, or -1 with a message
 * (a scale the file does not have, a sweep that does not parse). */
int sf_experiment_apply(sf_config *base, const sf_config *given, sf_sweep *sw, char *err, size_t errlen);

/* Split a sweep into the keys that vary between populations (outer) and
 * those within one (inner). */
void sf_sweep_split(const sf_sweep *sw, sf_sweep *outer, sf_sweep *inner);

/* A population's directory name: "train.algo=bc,train.bc=false". */
void sf_population_label(const sf_sweep *outer, int point, char *out, size_t len);

/* The populations of an experiment directory, one subdirectory name a line.
 * Write: 0 or -1 with a message. Read: the count (0 when the file is
 * absent), names in out[cap][256]. */
int sf_populations_write(const char *dir, const sf_sweep *outer, char *err, size_t errlen);
int sf_populations_read(const char *dir, char (*out)[256], int cap);

#ifdef __cplusplus
}
#endif
#endif
