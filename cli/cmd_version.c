#include <stdio.h>

#include "cli/sf_cli.h"
#include "cli/sf_device.h"
#include "core/sf_defs.h"

int sf_cmd_version(int argc, char **argv) {
  static const sf_flag flags[] = {
      {"device", "device", NULL, "DEV",
       "also say which device DEV (auto|cpu|cuda) gives here; cuda that cannot be had is an error naming why"},
  };
  static const sf_cmd_spec spec = {"version", NULL, "print the version and which backends this build has",
                                   flags, (int)SF_ARRAY_LEN(flags), 0, 0, NULL};
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos;
  int rc = sf_cli_parse(&spec, argc, argv, cfg, pos, &npos);
  const int asked = rc == SF_CLI_OK && sf_cfg_has(cfg, "device");
  sf_device dev = SF_DEVICE_CPU;
  if (rc == SF_CLI_OK) {
    dev = sf_device_from_config(cfg, 1, "version");
    rc = sf_cli_check(cfg, spec.name);
  }
  sf_cfg_free(cfg);
  if (rc == SF_CLI_HELP) return SF_EXIT_OK;
  if (rc) return SF_EXIT_USAGE;
  printf("spikefly %s\nbackends: cpu%s\n", SF_VERSION,
#ifdef SF_HAVE_CUDA
         " cuda"
#else
         ""
#endif
  );
  if (asked) printf("device: %s\n", dev == SF_DEVICE_CUDA ? "cuda (a GPU answers)" : "cpu");
  return SF_EXIT_OK;
}
