#include <stdio.h>

#include "cli/sf_cli.h"
#include "core/sf_defs.h"

#define SF_VERSION "0.1.0"

int sf_cmd_version(int argc, char **argv) {
  static const sf_cmd_spec spec = {"version", NULL, "print the version and which backends this build has",
                                   NULL, 0, 0, 0, NULL};
  sf_config *cfg = sf_cfg_new();
  const char *pos[1];
  int npos;
  int rc = sf_cli_parse(&spec, argc, argv, cfg, pos, &npos);
  if (rc == SF_CLI_OK) rc = sf_cli_check(cfg, spec.name);
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
  return SF_EXIT_OK;
}
