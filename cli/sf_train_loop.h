/* The command-line side of training, shared by `spikefly train` and
 * `spikefly train-guide`: arguments and sweeps into the run's settings, a
 * new or resumed run directory, the backend; the loop itself is the RL
 * library's (rl/sf_train_run.h). */
#ifndef SF_TRAIN_LOOP_H
#define SF_TRAIN_LOOP_H

#include "cli/sf_cli.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SF_TRAIN_POLICY = 0, SF_TRAIN_GUIDE = 1 } sf_train_mode;

/* Run a training command; returns the process exit code. */
int sf_train_main(const sf_cmd_spec *spec, sf_train_mode mode, int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
