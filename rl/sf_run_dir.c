#include "rl/sf_run_dir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sf_defs.h"
#include "core/sf_fileio.h"
#include "core/sf_safetensors.h"

typedef struct {
  char *s;
  size_t len, cap;
} text;

static void put(text *t, const char *line) {
  size_t l = strlen(line);
  if (t->len + l + 1 > t->cap) {
    t->cap = 2 * (t->len + l + 1);
    t->s = realloc(t->s, t->cap);
  }
  memcpy(t->s + t->len, line, l + 1);
  t->len += l;
}

char *sf_run_config_text(const sf_config *base, const sf_config *effective, const sf_sweep *sw) {
  text t = {0};
  char line[2048];
  snprintf(line, sizeof line, "# spikefly %s run configuration (INI, section.key = value)\n", SF_VERSION);
  put(&t, line);
  const char *k, *v;
  for (int i = 0; i < sf_cfg_count(base); ++i) {
    sf_cfg_entry(base, i, &k, &v);
    snprintf(line, sizeof line, "%s = %s\n", k, v);
    put(&t, line);
  }
  put(&t, "# defaults taken\n");
  for (int i = 0; i < sf_cfg_default_count(effective); ++i) {
    sf_cfg_default_entry(effective, i, &k, &v);
    int swept = 0;
    for (int j = 0; j < sw->nkeys; ++j) swept |= !strcmp(sw->key[j], k);
    if (swept || sf_cfg_has(base, k)) continue;
    snprintf(line, sizeof line, "%s = %s\n", k, v);
    put(&t, line);
  }
  for (int j = 0; j < sw->nkeys; ++j) {
    int n = snprintf(line, sizeof line, "# sweep %s =", sw->key[j]);
    for (int i = 0; i < sw->nvalues[j] && n < (int)sizeof line; ++i)
      n += snprintf(line + n, sizeof line - n, "%s%s", i ? "," : " ", sw->value[j][i]);
    if (n < (int)sizeof line) snprintf(line + n, sizeof line - n, "\n");
    put(&t, line);
  }
  return t.s;
}

int sf_run_load_sweeps(const char *path, sf_sweep *sw, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "cannot read '%s'", path);
    return -1;
  }
  char line[2048];
  int rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f)) {
    if (strncmp(line, "# sweep ", 8)) continue;
    char spec[2048], *o = spec, why[256];
    for (const char *p = line + 8; *p && *p != '\n'; ++p)
      if (*p != ' ') *o++ = *p;
    *o = 0;
    if (sf_sweep_add(sw, spec, why, sizeof why) != 0) {
      snprintf(err, errlen, "%s: %s", path, why);
      rc = -1;
    }
  }
  fclose(f);
  return rc;
}

static int exists(const char *dir, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

static void remove_in(const char *dir, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  remove(path);
}

int sf_run_dir_new(const char *dir, int overwrite, int *usage, char *err, size_t errlen) {
  struct stat st;
  *usage = 1;
  if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "run directory '%s' is a file (train.out)", dir);
    return -1;
  }
  if (!overwrite && (exists(dir, "progress.csv") || exists(dir, "checkpoint.safetensors"))) {
    snprintf(err, errlen, "run directory '%s' already holds a run (train.out; train.overwrite=true replaces it)", dir);
    return -1;
  }
  *usage = 0;
  if (sf_mkdirs(dir, err, errlen) != 0 || sf_dir_check_writable(dir, 16u << 20, err, errlen) != 0) return -1;
  const char *old[] = {"checkpoint.safetensors", "summary.csv", "guide.safetensors", "progress.csv"};
  for (size_t i = 0; i < SF_ARRAY_LEN(old); ++i) remove_in(dir, old[i]);
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (!strncmp(e->d_name, "events.out.tfevents.", 20) || !strncmp(e->d_name, "checkpoint.agents-", 18))
      remove_in(dir, e->d_name);
  if (d) closedir(d);
  return 0;
}

int sf_run_dir_finished(const char *dir) { return exists(dir, "summary.csv"); }

int sf_run_dir_resume(const char *dir, const char *checkpoint, int epoch, sf_record **kept, int *nkept,
                      double *wall_s, char *err, size_t errlen) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, checkpoint);
  sf_st_file *cf = sf_st_open(path, SF_ST_ALLOW_NO_CRC, err, errlen);
  if (!cf) return -1;
  const char *wv = sf_st_meta(cf, "spikefly.wall_s");
  *wall_s = wv ? atof(wv) : 0.0;
  sf_st_close(cf);
  if (!kept) return 0;
  snprintf(path, sizeof path, "%s/progress.csv", dir);
  sf_record *rows;
  int n;
  if (sf_record_read(path, &rows, &n, err, errlen) != 0) return -1;
  /* Rows after the checkpoint are written again by the resumed run. */
  int k = 0;
  for (int i = 0; i < n; ++i)
    if (rows[i].epoch <= epoch) rows[k++] = rows[i];
  *kept = rows;
  *nkept = k;
  return 0;
}
