#include "cli/sf_device.h"

#include <stdio.h>

#ifdef SF_HAVE_CUDA
#include "kernels/sf_env_cuda.h"
#include "kernels/sf_trainer_cuda.h"
#endif

sf_device sf_device_from_config(sf_config *cfg, int has_cuda_path, const char *what) {
  static const char *const devices[] = {"auto", "cpu", "cuda", NULL};
  const int want = sf_cfg_choice(cfg, "device", "auto", devices);
  if (sf_cfg_error(cfg) || want == 1) return SF_DEVICE_CPU;
  if (!has_cuda_path) {
    if (want == 2) sf_cfg_fail(cfg, "config key 'device': %s runs on the cpu backend only (device=cpu or auto)", what);
    return SF_DEVICE_CPU;
  }
#ifdef SF_HAVE_CUDA
  char why[256];
  if (sf_cuda_env_available(why, sizeof why) == 0) return SF_DEVICE_CUDA;
  if (want == 2) sf_cfg_fail(cfg, "config key 'device': cuda requested but no GPU can be used: %s", why);
#else
  if (want == 2) sf_cfg_fail(cfg, "config key 'device': cuda requested but this build has no CUDA backend (nvcc was not found)");
#endif
  return SF_DEVICE_CPU;
}

sf_backend *sf_backend_open(sf_device dev, sf_trainer *t, char *err, size_t errlen) {
#ifdef SF_HAVE_CUDA
  if (dev == SF_DEVICE_CUDA) return sf_cuda_backend_new(t, err, errlen);
#endif
  (void)dev;
  sf_backend *b = sf_cpu_backend_new(t);
  if (!b) snprintf(err, errlen, "out of memory");
  return b;
}

int sf_device_pick(sf_device dev, int local_rank, char *err, size_t errlen) {
#ifdef SF_HAVE_CUDA
  if (dev == SF_DEVICE_CUDA) return sf_cuda_use_device(local_rank, err, errlen);
#endif
  (void)dev, (void)local_rank, (void)err, (void)errlen;
  return 0;
}
