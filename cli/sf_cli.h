/* Command-line parsing shared by every `spikefly` command.
 *
 * A command's flags are aliases for config keys: `--envs 64` sets `fly.envs`,
 * a switch such as `--no-bc` sets its key to a fixed value. Everything then
 * flows through the config's validation, so a bad flag and a bad INI line get
 * the same message. Each command also takes `--config FILE` (INI, may repeat,
 * loaded first), `section.key=value` overrides, and `--help`. */
#ifndef SF_CLI_H
#define SF_CLI_H

#include "core/sf_config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const char *flag;  /* name without the dashes: "envs" for --envs */
  const char *key;   /* config key it sets */
  const char *value; /* NULL: the flag takes an argument; else the value it sets */
  const char *meta;  /* argument name for --help, e.g. "N" */
  const char *help;
} sf_flag;

typedef struct {
  const char *name;    /* "fly" */
  const char *args;    /* positional arguments for the usage line, e.g. "CHECKPOINT" */
  const char *summary; /* one line */
  const sf_flag *flags;
  int nflags;
  int min_positional, max_positional;
  const char *epilog; /* extra help text, may be NULL */
} sf_cmd_spec;

enum { SF_CLI_OK = 0, SF_CLI_HELP = 1, SF_CLI_ERROR = 2 };

/* Parse argv (argv[0] is the command name). Positional arguments are stored
 * in pos[] (capacity max_positional). Returns SF_CLI_OK, SF_CLI_HELP (help was
 * printed) or SF_CLI_ERROR (a message naming the problem was printed). */
int sf_cli_parse(const sf_cmd_spec *spec, int argc, char **argv, sf_config *cfg,
                 const char **pos, int *npos);

/* After a command has read its keys: report the first config error or unknown
 * key on stderr and return SF_EXIT_USAGE, else 0. */
int sf_cli_check(sf_config *cfg, const char *command);

void sf_cli_print_help(const sf_cmd_spec *spec);

/* 1 when a would-be option value is itself an option: it starts with `--`
 * or is `-h`. (A negative number such as -1 is a value.) */
int sf_cli_looks_like_option(const char *value);
/* The value of option --flag at argv[*i]: argv[*i + 1], advancing *i. A
 * missing value or one that looks like an option prints "--flag needs a value
 * (META)" and returns -1; `--flag=--x` is how such a value is given. */
int sf_cli_take_value(const char *command, const char *flag, const char *meta, int argc, char **argv, int *i,
                      const char **value);

/* Run the command argv[1] with its arguments (argv[0]: the program's name),
 * as the `spikefly` program does; returns its exit code. Re-entrant: the
 * Python package calls it for one command after another in one process. */
int sf_cli_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
