/* A run directory: config.ini (every effective setting, the sweep, the
 * version), progress.csv and TensorBoard events (rl/sf_record.h),
 * checkpoint.safetensors, summary.csv (written when the run finished), and
 * guide.safetensors for train-guide. */
#ifndef SF_RUN_DIR_H
#define SF_RUN_DIR_H

#include <stddef.h>

#include "core/sf_config.h"
#include "rl/sf_record.h"
#include "rl/sf_sweep.h"

#ifdef __cplusplus
extern "C" {
#endif

/* config.ini's text: the keys set in `base`, then the defaults the run's
 * settings took (read from `effective`, an agent's config after every
 * setting was read), then the sweep as "# sweep KEY = v1,v2" lines and the
 * version. malloc'ed. */
char *sf_run_config_text(const sf_config *base, const sf_config *effective, const sf_sweep *sw);

/* The sweep recorded in a run's config.ini. 0, or -1 with a message. */
int sf_run_load_sweeps(const char *config_path, sf_sweep *sw, char *err, size_t errlen);

/* Make `dir` ready for a new run: refuse one that holds a run unless
 * overwrite, create it, check it is writable, and remove what an earlier
 * run left (checkpoints, summary, guide, events). 0; -1 with a message and
 * *usage set when the problem is the input (a run there, a file). */
int sf_run_dir_new(const char *dir, int overwrite, int *usage, char *err, size_t errlen);

/* A finished run has its summary.csv. */
int sf_run_dir_finished(const char *dir);

/* What a resumed run continues from: the checkpoint's wall-clock seconds
 * (the file `checkpoint` in dir) and, unless kept is NULL, the rows of
 * progress.csv up to epoch `epoch` (the checkpoint's) in *kept (malloc'ed,
 * *nkept of them). 0, or -1 with a message. */
int sf_run_dir_resume(const char *dir, const char *checkpoint, int epoch, sf_record **kept, int *nkept,
                      double *wall_s, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
