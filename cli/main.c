/* spikefly: the command-line entry point. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli/sf_cli.h"
#include "rl/sf_train_run.h"

/* Ctrl-C (or a batch system's SIGTERM) asks a training run to stop at its
 * next piece of work, leaving a resumable run; a second one ends the
 * program at once. */
static void on_stop_signal(int sig) {
  static const char msg[] = "\nspikefly: stopping at the next piece of work (again to quit now)\n";
  sf_train_request_stop();
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  signal(sig, SIG_DFL);
}

int main(int argc, char **argv) {
  if (argc > 1 && (!strcmp(argv[1], "train") || !strcmp(argv[1], "train-guide"))) {
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
  }
  return sf_cli_main(argc, argv);
}
