#include "rl/sf_sweep.h"

#include <stdio.h>
#include <string.h>

int sf_sweep_add(sf_sweep *s, const char *spec, char *err, size_t errlen) {
  const char *eq = strchr(spec, '=');
  if (!eq || eq == spec || !eq[1]) {
    snprintf(err, errlen, "sweep '%s' is not of the form key=v1,v2,...", spec);
    return -1;
  }
  if (s->nkeys == SF_SWEEP_MAX_KEYS) {
    snprintf(err, errlen, "at most %d sweep keys", SF_SWEEP_MAX_KEYS);
    return -1;
  }
  size_t kl = (size_t)(eq - spec);
  if (kl >= sizeof s->key[0]) {
    snprintf(err, errlen, "sweep key in '%s' is too long", spec);
    return -1;
  }
  for (int k = 0; k < s->nkeys; ++k)
    if (strlen(s->key[k]) == kl && !strncmp(s->key[k], spec, kl)) {
      snprintf(err, errlen, "sweep key '%.*s' given twice", (int)kl, spec);
      return -1;
    }
  int k = s->nkeys;
  memcpy(s->key[k], spec, kl);
  s->key[k][kl] = 0;
  int n = 0;
  const char *p = eq + 1;
  while (1) {
    const char *c = strchr(p, ',');
    size_t len = c ? (size_t)(c - p) : strlen(p);
    while (len && *p == ' ') { ++p; --len; }
    while (len && p[len - 1] == ' ') --len;
    if (len == 0 || len >= sizeof s->value[0][0]) {
      snprintf(err, errlen, "sweep '%s': empty or too long value", s->key[k]);
      return -1;
    }
    if (n == SF_SWEEP_MAX_VALUES) {
      snprintf(err, errlen, "sweep '%s': more than %d values", s->key[k], SF_SWEEP_MAX_VALUES);
      return -1;
    }
    memcpy(s->value[k][n], p, len);
    s->value[k][n][len] = 0;
    ++n;
    if (!c) break;
    p = c + 1;
  }
  s->nvalues[k] = n;
  long total = (long)sf_sweep_size(s) * n;
  if (total > SF_MAX_AGENTS) {
    snprintf(err, errlen, "sweep grid of %ld agents exceeds the maximum of %d", total, SF_MAX_AGENTS);
    return -1;
  }
  s->nkeys++;
  return 0;
}

int sf_sweep_size(const sf_sweep *s) {
  int n = 1;
  for (int k = 0; k < s->nkeys; ++k) n *= s->nvalues[k];
  return n;
}

int sf_sweep_index(const sf_sweep *s, int point, int k) {
  int stride = 1;
  for (int j = s->nkeys - 1; j > k; --j) stride *= s->nvalues[j];
  return (point / stride) % s->nvalues[k];
}

/* Whether config key `ck` lies in section [KEY.VALUE] of sweep key k
 * (value index v, or any value when v < 0); *suffix then points at the key
 * inside the section. */
static int in_variant_section(const sf_sweep *s, int k, int v, const char *ck, const char **suffix) {
  const size_t kl = strlen(s->key[k]);
  if (strncmp(ck, s->key[k], kl) || ck[kl] != '.') return 0;
  for (int i = v < 0 ? 0 : v; i < (v < 0 ? s->nvalues[k] : v + 1); ++i) {
    const size_t vl = strlen(s->value[k][i]);
    if (!strncmp(ck + kl + 1, s->value[k][i], vl) && ck[kl + 1 + vl] == '.') {
      *suffix = ck + kl + 2 + vl;
      return 1;
    }
  }
  return 0;
}

int sf_sweep_variant_section(const sf_sweep *s, int k, int v, const sf_config *base) {
  for (int i = 0; i < sf_cfg_count(base); ++i) {
    const char *ck, *val, *suffix;
    sf_cfg_entry(base, i, &ck, &val);
    if (in_variant_section(s, k, v, ck, &suffix)) return 1;
  }
  return 0;
}

const char *sf_sweep_variant_key(const sf_sweep *s, const char *cfgkey) {
  const char *suffix;
  for (int k = 0; k < s->nkeys; ++k)
    if (in_variant_section(s, k, -1, cfgkey, &suffix)) return suffix;
  return NULL;
}

sf_config *sf_sweep_config(const sf_sweep *s, const sf_config *base, int point) {
  int variant[SF_SWEEP_MAX_KEYS];
  for (int k = 0; k < s->nkeys; ++k) variant[k] = sf_sweep_variant_section(s, k, -1, base);
  sf_config *c = sf_cfg_new();
  /* The variants' sections stay behind: the point's own is applied below. */
  for (int i = 0; i < sf_cfg_count(base); ++i) {
    const char *k, *v, *suffix;
    sf_cfg_entry(base, i, &k, &v);
    int section = 0;
    for (int j = 0; j < s->nkeys && !section; ++j) section = variant[j] && in_variant_section(s, j, -1, k, &suffix);
    if (!section) sf_cfg_set(c, k, v);
  }
  for (int k = 0; k < s->nkeys; ++k) {
    const int v = sf_sweep_index(s, point, k);
    if (!variant[k]) {
      sf_cfg_set(c, s->key[k], s->value[k][v]);
      continue;
    }
    for (int i = 0; i < sf_cfg_count(base); ++i) {
      const char *ck, *val, *suffix;
      sf_cfg_entry(base, i, &ck, &val);
      if (in_variant_section(s, k, v, ck, &suffix)) sf_cfg_set(c, suffix, val);
    }
  }
  return c;
}

void sf_sweep_label(const sf_sweep *s, int point, const char *skip, char *out, size_t len) {
  out[0] = 0;
  for (int k = 0; k < s->nkeys; ++k) {
    if (skip && !strcmp(s->key[k], skip)) continue;
    size_t used = strlen(out);
    snprintf(out + used, len - used, "%s%s=%s", used ? " " : "", s->key[k], s->value[k][sf_sweep_index(s, point, k)]);
  }
}
