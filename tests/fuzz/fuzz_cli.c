/* libFuzzer harness of command-line parsing (cli/sf_cli.c).
 *
 * Input: arguments separated by NUL bytes (at most 32), parsed against a
 * small command spec, then the command's keys read and checked as a command
 * would. Arguments holding '/' are dropped, so `--config FILE` can only name
 * files in the working directory (run_fuzz.sh puts one INI file there), never
 * /dev/stdin or /dev/zero. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sf_cli.h"

static const sf_flag flags[] = {
    {"envs", "fly.envs", NULL, "N", "number of environments"},
    {"seed", "fly.seed", NULL, "S", "random seed"},
    {"trajectory", "fly.trajectory", NULL, "NAME", "reference trajectory"},
    {"no-bc", "train.bc", "false", NULL, "no behaviour cloning"},
    {"gains", "fly.gains", NULL, "LIST", "comma-separated gains"},
};

static const sf_cmd_spec spec = {
    "fuzz", "[RUN_DIR]", "exercise the parser", flags, sizeof flags / sizeof flags[0], 0, 2, NULL,
};

enum { MAX_ARGS = 32 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  memcpy(text, data, size);
  text[size] = 0;
  char *argv[MAX_ARGS + 2];
  int argc = 0;
  argv[argc++] = "fuzz";
  for (char *a = text; a < text + size + 1 && argc <= MAX_ARGS; a += strlen(a) + 1)
    if (!strchr(a, '/')) argv[argc++] = a;
  argv[argc] = NULL;

  sf_config *cfg = sf_cfg_new();
  const char *pos[2] = {NULL, NULL};
  int npos = -1;
  int rc = sf_cli_parse(&spec, argc, argv, cfg, pos, &npos);
  if (rc == SF_CLI_OK) {
    if (npos < 0 || npos > 2) abort();
    for (int i = 0; i < npos; ++i)
      if (!pos[i]) abort();
    static const char *const trajectories[] = {"hover", "figure8", "line", NULL};
    double gains[3];
    sf_cfg_int(cfg, "fly.envs", 1, 1, 1 << 20);
    sf_cfg_int(cfg, "fly.seed", 0, 0, 1L << 40);
    sf_cfg_choice(cfg, "fly.trajectory", "hover", trajectories);
    sf_cfg_bool(cfg, "train.bc", 1);
    sf_cfg_floats(cfg, "fly.gains", NULL, 0, -100.0, 100.0, gains, 3);
    int check = sf_cli_check(cfg, "fuzz");
    if (check != 0 && !sf_cfg_error(cfg)) abort(); /* a refusal names its reason */
  } else if (rc != SF_CLI_HELP && rc != SF_CLI_ERROR) {
    abort();
  }
  sf_cfg_free(cfg);
  free(text);
  return 0;
}
