/* The commands' dispatcher: the program's argument vector to one command.
 * The `spikefly` program and the Python package both enter here. */
#include <stdio.h>
#include <string.h>

#include "cli/sf_cli.h"
#include "core/sf_defs.h"

#define SF_COMMAND(ident, name, summary) int sf_cmd_##ident(int argc, char **argv);
#include "cli/sf_commands.def"
#undef SF_COMMAND

typedef struct {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
#define SF_COMMAND(ident, name, summary) {name, summary, sf_cmd_##ident},
#include "cli/sf_commands.def"
#undef SF_COMMAND
};

static void usage(FILE *out) {
  fprintf(out,
          "spikefly: train spiking neural network controllers for the Crazyflie 2.1\n\n"
          "usage: spikefly COMMAND [options]\n\ncommands:\n");
  for (size_t i = 0; i < SF_ARRAY_LEN(commands); ++i)
    fprintf(out, "  %-20s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n`spikefly COMMAND --help` describes a command's options.\n");
}

int sf_cli_main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return SF_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return SF_EXIT_OK;
  }
  /* The option every program answers: the same as the command. */
  if (!strcmp(argv[1], "--version")) argv[1] = "version";
  for (size_t i = 0; i < SF_ARRAY_LEN(commands); ++i)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "spikefly: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return SF_EXIT_USAGE;
}
