#include "cli/sf_cli.h"

#include <stdio.h>
#include <string.h>

#include "core/sf_defs.h"

void sf_cli_print_help(const sf_cmd_spec *spec) {
  printf("usage: spikefly %s [options]%s%s [section.key=value ...]\n\n%s\n\noptions:\n", spec->name,
         spec->args ? " " : "", spec->args ? spec->args : "", spec->summary);
  for (int i = 0; i < spec->nflags; ++i) {
    const sf_flag *f = &spec->flags[i];
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", f->flag, f->value ? "" : " ", f->value ? "" : f->meta);
    printf("  %-26s %s (%s%s%s)\n", left, f->help, f->key, f->value ? "=" : "", f->value ? f->value : "");
  }
  printf("  %-26s %s\n", "--config FILE", "read an INI file of settings (may repeat; flags and overrides win)");
  printf("  %-26s %s\n", "section.key=value", "set any config key");
  printf("  %-26s %s\n", "--help", "print this help");
  if (spec->epilog) printf("\n%s\n", spec->epilog);
}

static const sf_flag *find_flag(const sf_cmd_spec *spec, const char *name, size_t len) {
  for (int i = 0; i < spec->nflags; ++i)
    if (strlen(spec->flags[i].flag) == len && strncmp(spec->flags[i].flag, name, len) == 0) return &spec->flags[i];
  return NULL;
}

int sf_cli_looks_like_option(const char *value) {
  return (value[0] == '-' && value[1] == '-') || !strcmp(value, "-h");
}

int sf_cli_take_value(const char *command, const char *flag, const char *meta, int argc, char **argv, int *i,
                      const char **value) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "spikefly %s: --%s needs a value (%s)\n", command, flag, meta);
    return -1;
  }
  const char *v = argv[*i + 1];
  /* `--out --no-bc` is a forgotten value, not a directory named --no-bc:
   * taking it would silently drop the flag that follows. */
  if (sf_cli_looks_like_option(v)) {
    fprintf(stderr, "spikefly %s: --%s needs a value (%s), not the option '%s' (write --%s=%s for a value that "
            "starts with --)\n", command, flag, meta, v, flag, v);
    return -1;
  }
  *value = v;
  ++*i;
  return 0;
}

int sf_cli_parse(const sf_cmd_spec *spec, int argc, char **argv, sf_config *cfg,
                 const char **pos, int *npos) {
  *npos = 0;
  /* Pass 1: help and config files, so flags and overrides given anywhere win
   * over the files. */
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      sf_cli_print_help(spec);
      return SF_CLI_HELP;
    }
    if (!strcmp(argv[i], "--config")) {
      const char *file;
      if (sf_cli_take_value(spec->name, "config", "FILE", argc, argv, &i, &file) != 0) return SF_CLI_ERROR;
      if (sf_cfg_load_file(cfg, file) != 0) {
        fprintf(stderr, "spikefly %s: %s\n", spec->name, sf_cfg_error(cfg));
        return SF_CLI_ERROR;
      }
    } else if (!strncmp(argv[i], "--config=", 9)) {
      if (sf_cfg_load_file(cfg, argv[i] + 9) != 0) {
        fprintf(stderr, "spikefly %s: %s\n", spec->name, sf_cfg_error(cfg));
        return SF_CLI_ERROR;
      }
    } else if (argv[i][0] == '-' && argv[i][1] == '-' && !strchr(argv[i], '=')) {
      /* Step over an option's value: `--out --help` is a missing value. */
      const sf_flag *f = find_flag(spec, argv[i] + 2, strlen(argv[i] + 2));
      const char *value;
      if (f && !f->value && sf_cli_take_value(spec->name, f->flag, f->meta, argc, argv, &i, &value) != 0)
        return SF_CLI_ERROR;
    }
  }
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (!strcmp(a, "--config")) {
      ++i;
      continue;
    }
    if (!strncmp(a, "--config=", 9)) continue;
    if (a[0] == '-' && a[1] == '-') {
      const char *name = a + 2;
      const char *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      const sf_flag *f = find_flag(spec, name, len);
      if (!f) {
        fprintf(stderr, "spikefly %s: unknown option '%s' (see spikefly %s --help)\n", spec->name, a, spec->name);
        return SF_CLI_ERROR;
      }
      const char *value = f->value;
      if (!value) {
        if (eq)
          value = eq + 1;
        else if (sf_cli_take_value(spec->name, f->flag, f->meta, argc, argv, &i, &value) != 0)
          return SF_CLI_ERROR;
      } else if (eq) {
        fprintf(stderr, "spikefly %s: option --%s takes no value\n", spec->name, f->flag);
        return SF_CLI_ERROR;
      }
      sf_cfg_set(cfg, f->key, value);
    } else if (a[0] == '-' && a[1] && a[1] != '.' && (a[1] < '0' || a[1] > '9')) {
      fprintf(stderr, "spikefly %s: unknown option '%s' (see spikefly %s --help)\n", spec->name, a, spec->name);
      return SF_CLI_ERROR;
    } else if (strchr(a, '=')) {
      if (sf_cfg_set_override(cfg, a) != 0) {
        fprintf(stderr, "spikefly %s: %s\n", spec->name, sf_cfg_error(cfg));
        return SF_CLI_ERROR;
      }
    } else {
      if (*npos >= spec->max_positional) {
        fprintf(stderr, "spikefly %s: unexpected argument '%s'\n", spec->name, a);
        return SF_CLI_ERROR;
      }
      pos[(*npos)++] = a;
    }
  }
  if (*npos < spec->min_positional) {
    fprintf(stderr, "spikefly %s: missing argument %s (see spikefly %s --help)\n", spec->name,
            spec->args ? spec->args : "", spec->name);
    return SF_CLI_ERROR;
  }
  return SF_CLI_OK;
}

int sf_cli_check(sf_config *cfg, const char *command) {
  if (!sf_cfg_error(cfg)) sf_cfg_check_unused(cfg);
  if (sf_cfg_error(cfg)) {
    fprintf(stderr, "spikefly %s: %s\n", command, sf_cfg_error(cfg));
    return SF_EXIT_USAGE;
  }
  return 0;
}
