/* libFuzzer harness of the config table (core/sf_config.c).
 *
 * Input: INI text, then (after the first NUL byte) override lines
 * "section.key=value" separated by newlines. The INI text is loaded through
 * a memory file, the overrides applied, every key read with one of the typed
 * getters, unknown keys checked, and the table written out as INI and read
 * back. Any crash, leak or undefined behaviour is a finding. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/sf_config.h"

/* A path naming an in-memory file holding data[0..n). */
static int memfile(const void *data, size_t n, char *path, size_t cap) {
  int fd = memfd_create("sf_fuzz", 0);
  if (fd < 0) return -1;
  if (n && write(fd, data, n) != (ssize_t)n) {
    close(fd);
    return -1;
  }
  snprintf(path, cap, "/proc/self/fd/%d", fd);
  return fd;
}

static void read_keys(sf_config *cfg) {
  static const char *const choices[] = {"cpu", "cuda", "auto", NULL};
  double out[4];
  const double def[2] = {1.0, 2.0};
  int n = sf_cfg_count(cfg);
  for (int i = 0; i < n; ++i) {
    const char *key, *value;
    sf_cfg_entry(cfg, i, &key, &value);
    (void)value;
    switch (i % 6) {
      case 0: sf_cfg_int(cfg, key, 1, -1000, 1000); break;
      case 1: sf_cfg_float(cfg, key, 0.5, -1e6, 1e6); break;
      case 2: sf_cfg_bool(cfg, key, 0); break;
      case 3: sf_cfg_str(cfg, key, "x"); break;
      case 4: sf_cfg_choice(cfg, key, "auto", choices); break;
      case 5: sf_cfg_floats(cfg, key, def, 2, -10.0, 10.0, out, 4); break;
    }
  }
  /* Absent keys take their defaults. */
  int had = sf_cfg_has(cfg, "fuzz.absent");
  if (sf_cfg_int(cfg, "fuzz.absent", 3, 0, 5) != 3 && !had) abort();
  sf_cfg_floats(cfg, "fuzz.absent_list", def, 2, 0.0, 5.0, out, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, 0, size);
  size_t ini_len = nul ? (size_t)(nul - data) : size;

  sf_config *cfg = sf_cfg_new();
  char path[64];
  int fd = memfile(data, ini_len, path, sizeof path);
  if (fd >= 0) {
    sf_cfg_load_file(cfg, path);
    close(fd);
  }
  if (nul) {
    size_t rest = size - ini_len - 1;
    char *text = malloc(rest + 1);
    memcpy(text, nul + 1, rest);
    text[rest] = 0;
    for (char *line = text, *next; line; line = next) {
      next = strchr(line, '\n');
      if (next) *next++ = 0;
      sf_cfg_set_override(cfg, line);
    }
    free(text);
  }
  read_keys(cfg);
  sf_cfg_check_unused(cfg);
  const char *err = sf_cfg_error(cfg);
  if (err && !err[0]) abort(); /* an error is never an empty message */

  /* Write the table out as INI and load it into a fresh config. */
  int out = memfd_create("sf_fuzz_out", 0);
  if (out >= 0) {
    char opath[64];
    snprintf(opath, sizeof opath, "/proc/self/fd/%d", out);
    if (sf_cfg_write_ini(cfg, opath) == 0) {
      sf_config *again = sf_cfg_new();
      sf_cfg_load_file(again, opath);
      read_keys(again);
      sf_cfg_free(again);
    }
    close(out);
  }
  sf_cfg_free(cfg);
  return 0;
}
