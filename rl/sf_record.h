/* The named record of one epoch of one agent: what progress.csv holds (a
 * row per record, columns named by the fields below) and what TensorBoard
 * shows (a scalar per field marked for it, tagged "<setting>/<field>").
 * Resume, plot, report and the tests read progress.csv back by column name
 * through sf_record_read. */
#ifndef SF_RECORD_H
#define SF_RECORD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(field, in TensorBoard): the numeric columns in their order. */
#define SF_RECORD_FIELDS(X)                                                                                        \
  X(epoch, 0)          /* epochs completed */                                                                      \
  X(agent, 0)          /* index in the population */                                                               \
  X(env_steps, 1)      /* environment steps collected by the agent so far */                                       \
  X(updates, 0)        /* gradient updates so far */                                                               \
  X(wall_s, 1)         /* seconds since the run started (resumed runs included) */                                 \
  X(return_final, 1)   /* evaluation: mean return under the final reward coefficients (NaN: no evaluation) */      \
  X(return_current, 1) /* ... under the coefficients of the curriculum's current progress */                       \
  X(episode_len, 1)    /* ... mean episode length, steps */                                                        \
  X(survival, 1)       /* ... fraction of episodes reaching the time limit */                                      \
  X(survive_warmup, 1) /* ... fraction lasting train.survive_steps */                                              \
  X(hover_err, 1)      /* ... m, mean position error over the last second of surviving episodes */                 \
  X(slope, 1)          /* surrogate slope k of the epoch */                                                        \
  X(bc_weight, 1)      /* BC weight of the epoch */                                                                \
  X(horizon, 1)        /* jump-start horizon of the epoch */                                                       \
  X(critic_loss, 1)    /* mean over the epoch's updates */                                                         \
  X(actor_loss, 1)                                                                                                 \
  X(mean_q, 1)

typedef struct {
#define SF_RECORD_MEMBER(field, tb) double field;
  SF_RECORD_FIELDS(SF_RECORD_MEMBER)
#undef SF_RECORD_MEMBER
  char setting[192]; /* the agent's setting, e.g. "td3bc_jsrl seed=1 model.slope=5" (last column) */
} sf_record;

/* NaN in every number, empty setting. */
void sf_record_clear(sf_record *r);

/* progress.csv and the TensorBoard events of a run directory. */
typedef struct sf_record_log sf_record_log;

/* Open `dir`'s log: a new progress.csv and event file, or (keep != NULL) the
 * rows kept[0..nkept) written again first: a resumed run's rows up to its
 * checkpoint, in both progress.csv and a fresh event file, so every epoch
 * appears once in each. NULL with a message on failure. */
sf_record_log *sf_record_open(const char *dir, const sf_record *kept, int nkept, char *err, size_t errlen);
/* Append one record (flushed: a killed run keeps every finished row). 0 or -1. */
int sf_record_write(sf_record_log *log, const sf_record *r);
/* Close; 0, or -1 with a message when anything failed to reach the disk. */
int sf_record_close(sf_record_log *log, char *err, size_t errlen);

/* Read a progress.csv by column name: *rows (malloc'ed) and *n. Columns
 * the file lacks read as NaN; epoch and agent must be present. A row that
 * does not parse is an error naming its line. 0, or -1 with a message. */
int sf_record_read(const char *path, sf_record **rows, int *n, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
