#include "rl/sf_experiment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_fileio.h"
#include "rl/sf_trainer.h"

typedef struct {
  char *key, *value;
} kv;

/* A variant group (rl/sf_sweep.h) has a section for each of its values. */
static int check_variants(const sf_config *base, const sf_sweep *sw, char *err, size_t errlen) {
  for (int k = 0; k < sw->nkeys; ++k) {
    if (!sf_sweep_variant_section(sw, k, -1, base)) continue;
    for (int v = 0; v < sw->nvalues[k]; ++v)
      if (!sf_sweep_variant_section(sw, k, v, base)) {
        snprintf(err, errlen, "sweep '%s': its value '%s' has no section [%s.%s] (the variants of '%s' set their "
                 "keys in such sections)", sw->key[k], sw->value[k][v], sw->key[k], sw->value[k][v], sw->key[k]);
        return -1;
      }
  }
  return 0;
}

/* Whether `key` is set by the command line or by the chosen scale. */
static int overridden(const sf_config *given, const kv *all, int n, const char *scale, const char *key) {
  if (sf_cfg_has(given, key)) return 1;
  const size_t sl = strlen(scale);
  for (int i = 0; i < n; ++i) {
    const char *k = all[i].key;
    if (!strncmp(k, "scale.", 6) && !strncmp(k + 6, scale, sl) && k[6 + sl] == '.' && !strcmp(k + 7 + sl, key))
      return 1;
  }
  return 0;
}

/* The command line and the scale win over a variant's section as they win
 * over the file's other keys (a smoke scale's tiny network holds for every
 * variant): such a key takes their value in the sections too. */
static void overrides_win(sf_config *base, const sf_config *given, const sf_sweep *sw, const kv *all, int n,
                          const char *scale) {
  const int nb = sf_cfg_count(base);
  char(*fix)[256] = calloc(nb ? nb : 1, sizeof *fix);
  int nfix = 0;
  for (int i = 0; i < nb; ++i) {
    const char *k, *v, *inner = NULL;
    sf_cfg_entry(base, i, &k, &v);
    if ((inner = sf_sweep_variant_key(sw, k)) && sf_cfg_has(base, inner) && overridden(given, all, n, scale, inner))
      snprintf(fix[nfix++], 256, "%s", k);
  }
  /* Set after the walk: setting moves the table. */
  for (int i = 0; i < nfix; ++i) sf_cfg_set(base, fix[i], sf_cfg_peek(base, sf_sweep_variant_key(sw, fix[i])));
  free(fix);
}

int sf_experiment_apply(sf_config *base, const sf_config *given, sf_sweep *sw, char *err, size_t errlen) {
  const char *chosen = sf_cfg_peek(base, "experiment.scale");
  char scale[64];
  snprintf(scale, sizeof scale, "%s", chosen ? chosen : "paper");
  /* Copied first: setting and removing keys moves the table. */
  const int n = sf_cfg_count(base);
  kv *all = calloc(n ? n : 1, sizeof *all);
  for (int i = 0; i < n; ++i) {
    const char *k, *v;
    sf_cfg_entry(base, i, &k, &v);
    all[i] = (kv){strdup(k), strdup(v)};
  }
  int rc = 0, scales = 0, found = 0;
  char names[256] = "";
  for (int i = 0; i < n && rc == 0; ++i) {
    const char *k = all[i].key, *v = all[i].value;
    if (!strncmp(k, "sweep.", 6)) {
      char spec[1024];
      snprintf(spec, sizeof spec, "%s=%s", k + 6, v);
      if (sf_sweep_add(sw, spec, err, errlen) != 0) rc = -1;
      sf_cfg_remove(base, k);
    } else if (!strncmp(k, "scale.", 6)) {
      const char *name = k + 6, *dot = strchr(name, '.');
      sf_cfg_remove(base, k);
      if (!dot) continue;
      const size_t len = (size_t)(dot - name);
      char this_scale[64];
      snprintf(this_scale, sizeof this_scale, "%.*s", (int)len, name);
      if (!strstr(names, this_scale)) {
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", scales++ ? ", " : "", this_scale);
      }
      if (strcmp(this_scale, scale)) continue;
      found = 1;
      if (!sf_cfg_has(given, dot + 1)) sf_cfg_set(base, dot + 1, v);
    }
  }
  if (rc == 0 && chosen && !found && strcmp(scale, "paper")) {
    snprintf(err, errlen, "config key 'experiment.scale': '%s' is not a scale of this experiment (%s)", scale,
             scales ? names : "it has none");
    rc = -1;
  }
  if (rc == 0) rc = check_variants(base, sw, err, errlen);
  if (rc == 0) overrides_win(base, given, sw, all, n, scale);
  for (int i = 0; i < n; ++i) free(all[i].key), free(all[i].value);
  free(all);
  return rc;
}

void sf_sweep_split(const sf_sweep *sw, sf_sweep *outer, sf_sweep *inner) {
  memset(outer, 0, sizeof *outer);
  memset(inner, 0, sizeof *inner);
  for (int k = 0; k < sw->nkeys; ++k) {
    sf_sweep *to = sf_is_agent_key(sw->key[k]) ? inner : outer;
    const int j = to->nkeys++;
    memcpy(to->key[j], sw->key[k], sizeof to->key[j]);
    to->nvalues[j] = sw->nvalues[k];
    memcpy(to->value[j], sw->value[k], sizeof to->value[j]);
  }
}

void sf_population_label(const sf_sweep *outer, int point, char *out, size_t len) {
  out[0] = 0;
  for (int k = 0; k < outer->nkeys; ++k)
    snprintf(out + strlen(out), len - strlen(out), "%s%s=%s", k ? "," : "", outer->key[k],
             outer->value[k][sf_sweep_index(outer, point, k)]);
}

int sf_populations_write(const char *dir, const sf_sweep *outer, char *err, size_t errlen) {
  char path[1024], line[512];
  size_t cap = 4096, len = 0;
  char *text = malloc(cap);
  text[0] = 0;
  for (int o = 0; o < sf_sweep_size(outer); ++o) {
    sf_population_label(outer, o, line, sizeof line - 1);
    strcat(line, "\n");
    if (len + strlen(line) + 1 > cap) text = realloc(text, cap *= 2);
    strcpy(text + len, line);
    len += strlen(line);
  }
  snprintf(path, sizeof path, "%s/populations.txt", dir);
  int rc = sf_mkdirs(dir, err, errlen) == 0 ? sf_write_file_atomic(path, text, len, err, errlen) : -1;
  free(text);
  return rc;
}

int sf_populations_read(const char *dir, char (*out)[256], int cap) {
  char path[1024], line[256];
  snprintf(path, sizeof path, "%s/populations.txt", dir);
  FILE *f = fopen(path, "r");
  int n = 0;
  while (f && n < cap && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (line[0]) snprintf(out[n++], 256, "%s", line);
  }
  if (f) fclose(f);
  return n;
}
