/* The backend a command runs on: the `device` key (`--device`), one of
 * auto | cpu | cuda. auto takes the GPU when this build has the CUDA backend
 * and a device can be used, else the CPU; cuda is an error (recorded in the
 * config, naming the reason) when it cannot be had. */
#ifndef SF_DEVICE_H
#define SF_DEVICE_H

#include "core/sf_config.h"
#include "rl/sf_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SF_DEVICE_CPU = 0, SF_DEVICE_CUDA = 1 } sf_device;

/* `what` names the work for the message when the command has no GPU path
 * (has_cuda_path = 0: auto then means cpu and cuda is an error). */
sf_device sf_device_from_config(sf_config *cfg, int has_cuda_path, const char *what);

/* One of several processes on a node takes device `local_rank` modulo the
 * node's GPUs (nothing on the CPU). 0, or -1 with a message. */
int sf_device_pick(sf_device dev, int local_rank, char *err, size_t errlen);

/* The training backend on `dev` for trainer t: the only place that knows
 * which backends this build has. NULL with a message on failure. */
sf_backend *sf_backend_open(sf_device dev, sf_trainer *t, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
