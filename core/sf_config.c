#include "core/sf_config.h"

#include <ini.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/sf_fileio.h"

typedef struct {
  char *key;
  char *value;
  int used;
} sf_cfg_item;

struct sf_config {
  sf_cfg_item *items;
  int n, cap;
  sf_cfg_item *defaults; /* keys read while absent, with the default taken */
  int nd, capd;
  char err[512];
  int has_err;
};

sf_config *sf_cfg_new(void) { return calloc(1, sizeof(sf_config)); }

void sf_cfg_free(sf_config *cfg) {
  if (!cfg) return;
  for (int i = 0; i < cfg->n; ++i) {
    free(cfg->items[i].key);
    free(cfg->items[i].value);
  }
  free(cfg->items);
  for (int i = 0; i < cfg->nd; ++i) {
    free(cfg->defaults[i].key);
    free(cfg->defaults[i].value);
  }
  free(cfg->defaults);
  free(cfg);
}

void sf_cfg_fail(sf_config *cfg, const char *fmt, ...) {
  if (cfg->has_err) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cfg->err, sizeof cfg->err, fmt, ap);
  va_end(ap);
  cfg->has_err = 1;
}

const char *sf_cfg_error(const sf_config *cfg) { return cfg->has_err ? cfg->err : NULL; }

static sf_cfg_item *find(const sf_config *cfg, const char *key) {
  for (int i = 0; i < cfg->n; ++i)
    if (strcmp(cfg->items[i].key, key) == 0) return &cfg->items[i];
  return NULL;
}

static char *trimmed_copy(const char *s, size_t len) {
  while (len && (*s == ' ' || *s == '\t')) { ++s; --len; }
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n')) --len;
  char *r = malloc(len + 1);
  memcpy(r, s, len);
  r[len] = 0;
  return r;
}

int sf_cfg_set(sf_config *cfg, const char *key, const char *value) {
  char *k = trimmed_copy(key, strlen(key));
  if (!k[0] || strchr(k, ' ') || strchr(k, '=')) {
    sf_cfg_fail(cfg, "invalid config key '%s'", key);
    free(k);
    return -1;
  }
  char *v = trimmed_copy(value, strlen(value));
  sf_cfg_item *it = find(cfg, k);
  if (it) {
    free(it->value);
    it->value = v;
    free(k);
    return 0;
  }
  if (cfg->n == cfg->cap) {
    cfg->cap = cfg->cap ? 2 * cfg->cap : 32;
    cfg->items = realloc(cfg->items, (size_t)cfg->cap * sizeof *cfg->items);
  }
  cfg->items[cfg->n++] = (sf_cfg_item){k, v, 0};
  return 0;
}

int sf_cfg_remove(sf_config *cfg, const char *key) {
  sf_cfg_item *it = find(cfg, key);
  if (!it) return -1;
  free(it->key);
  free(it->value);
  const long i = it - cfg->items;
  memmove(it, it + 1, sizeof *it * (size_t)(cfg->n - i - 1));
  cfg->n--;
  return 0;
}

int sf_cfg_set_override(sf_config *cfg, const char *assignment) {
  const char *eq = strchr(assignment, '=');
  if (!eq || eq == assignment) {
    sf_cfg_fail(cfg, "override '%s' is not of the form section.key=value", assignment);
    return -1;
  }
  char *key = trimmed_copy(assignment, (size_t)(eq - assignment));
  int rc = sf_cfg_set(cfg, key, eq + 1);
  free(key);
  return rc;
}

typedef struct {
  sf_config *cfg;
  const char *path;
} ini_ctx;

static int sf_ini_line(void *user, const char *section, const char *name, const char *value) {
  ini_ctx *c = user;
  char key[512];
  if (section && section[0])
    snprintf(key, sizeof key, "%s.%s", section, name);
  else
    snprintf(key, sizeof key, "%s", name);
  return sf_cfg_set(c->cfg, key, value ? value : "") == 0;
}

/* libinih reads a line into a buffer of INI_MAX_LINE bytes and parses what
 * does not fit as the following line(s): a long value would be cut, and an
 * error reported on a line number that is not in the file. */
#define SF_CFG_MAX_LINE (INI_MAX_LINE - 2)

/* What libinih cannot see: a NUL byte (it would end the line there) or a line
 * longer than it reads. Reports the first, by line number. */
static int check_lines(sf_config *cfg, const char *path, const char *text, size_t n) {
  int line = 1;
  size_t start = 0;
  for (size_t i = 0; i <= n; ++i) {
    if (i < n && text[i] == 0) {
      sf_cfg_fail(cfg, "config file '%s': line %d holds a NUL byte (not a text file?)", path, line);
      return -1;
    }
    if (i < n && text[i] != '\n') continue;
    size_t len = i - start;
    if (len && text[i - 1] == '\r') --len;
    if (len > SF_CFG_MAX_LINE) {
      sf_cfg_fail(cfg, "config file '%s': line %d is %zu characters long; at most %d are allowed", path, line,
                  len, SF_CFG_MAX_LINE);
      return -1;
    }
    ++line;
    start = i + 1;
  }
  return 0;
}

int sf_cfg_load_file(sf_config *cfg, const char *path) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    sf_cfg_fail(cfg, "config file '%s' is a directory", path);
    return -1;
  }
  void *data;
  size_t n;
  char err[512];
  if (sf_read_file(path, &data, &n, err, sizeof err) != 0) {
    sf_cfg_fail(cfg, "config file: %s", err);
    return -1;
  }
  int rc = check_lines(cfg, path, data, n);
  if (rc == 0) {
    ini_ctx c = {cfg, path};
    int line = ini_parse_string(data, sf_ini_line, &c);
    if (line != 0) {
      sf_cfg_fail(cfg, "config file '%s': cannot parse line %d", path, line);
      rc = -1;
    }
  }
  free(data);
  return rc;
}

int sf_cfg_has(const sf_config *cfg, const char *key) { return find(cfg, key) != NULL; }

const char *sf_cfg_peek(const sf_config *cfg, const char *key) {
  sf_cfg_item *it = find(cfg, key);
  return it ? it->value : NULL;
}

static const char *take(sf_config *cfg, const char *key) {
  sf_cfg_item *it = find(cfg, key);
  if (!it) return NULL;
  it->used = 1;
  return it->value;
}

/* Remember the default a getter took for an absent key (once per key). */
static void note_default(sf_config *cfg, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note_default(sf_config *cfg, const char *key, const char *fmt, ...) {
  for (int i = 0; i < cfg->nd; ++i)
    if (!strcmp(cfg->defaults[i].key, key)) return;
  if (cfg->nd == cfg->capd) {
    int cap = cfg->capd ? 2 * cfg->capd : 64;
    sf_cfg_item *grown = realloc(cfg->defaults, sizeof *grown * cap);
    if (!grown) return;
    cfg->defaults = grown;
    cfg->capd = cap;
  }
  char value[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(value, sizeof value, fmt, ap);
  va_end(ap);
  sf_cfg_item *it = &cfg->defaults[cfg->nd++];
  it->key = strdup(key);
  it->value = strdup(value);
  it->used = 1;
}

/* The shortest of %.15g / %.17g that reads back as v. */
static const char *fmt_double(char *buf, size_t len, double v) {
  snprintf(buf, len, "%.15g", v);
  if (strtod(buf, NULL) != v) snprintf(buf, len, "%.17g", v);
  return buf;
}

int sf_cfg_default_count(const sf_config *cfg) { return cfg->nd; }

void sf_cfg_default_entry(const sf_config *cfg, int i, const char **key, const char **value) {
  *key = cfg->defaults[i].key;
  *value = cfg->defaults[i].value;
}

long sf_cfg_int(sf_config *cfg, const char *key, long def, long min, long max) {
  const char *s = take(cfg, key);
  if (!s) {
    note_default(cfg, key, "%ld", def);
    return def;
  }
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!s[0] || *end || errno) {
    sf_cfg_fail(cfg, "config key '%s': '%s' is not an integer", key, s);
    return def;
  }
  if (v < min || v > max) {
    sf_cfg_fail(cfg, "config key '%s': %ld is out of range [%ld, %ld]", key, v, min, max);
    return def;
  }
  return v;
}

static int parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  while (*end == ' ') ++end;
  if (!s[0] || *end || errno == ERANGE) return -1;
  *out = v;
  return 0;
}

double sf_cfg_float(sf_config *cfg, const char *key, double def, double min, double max) {
  const char *s = take(cfg, key);
  if (!s) {
    char num[32];
    note_default(cfg, key, "%s", fmt_double(num, sizeof num, def));
    return def;
  }
  double v;
  if (parse_double(s, &v) != 0) {
    sf_cfg_fail(cfg, "config key '%s': '%s' is not a number", key, s);
    return def;
  }
  if (!isfinite(v)) {
    sf_cfg_fail(cfg, "config key '%s': '%s' is not a finite number", key, s);
    return def;
  }
  if (v < min || v > max) {
    sf_cfg_fail(cfg, "config key '%s': %g is out of range [%g, %g]", key, v, min, max);
    return def;
  }
  return v;
}

int sf_cfg_bool(sf_config *cfg, const char *key, int def) {
  const char *s = take(cfg, key);
  if (!s) {
    note_default(cfg, key, "%s", def ? "true" : "false");
    return def;
  }
  if (!strcasecmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) return 1;
  if (!strcasecmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")) return 0;
  sf_cfg_fail(cfg, "config key '%s': '%s' is not a boolean (true/false)", key, s);
  return def;
}

const char *sf_cfg_str(sf_config *cfg, const char *key, const char *def) {
  const char *s = take(cfg, key);
  if (!s && def) note_default(cfg, key, "%s", def);
  return s ? s : def;
}

int sf_cfg_choice(sf_config *cfg, const char *key, const char *def, const char *const *choices) {
  const char *s = sf_cfg_str(cfg, key, def);
  for (int i = 0; choices[i]; ++i)
    if (strcmp(s, choices[i]) == 0) return i;
  char list[256] = "";
  for (int i = 0; choices[i]; ++i) {
    strncat(list, i ? "|" : "", sizeof list - strlen(list) - 1);
    strncat(list, choices[i], sizeof list - strlen(list) - 1);
  }
  sf_cfg_fail(cfg, "config key '%s': '%s' is not one of %s", key, s, list);
  for (int i = 0; choices[i]; ++i)
    if (strcmp(def, choices[i]) == 0) return i;
  return 0;
}

int sf_cfg_floats(sf_config *cfg, const char *key, const double *def, int ndef,
                  double min, double max, double *out, int cap) {
  const char *s = take(cfg, key);
  if (!s) {
    int n = ndef < cap ? ndef : cap;
    char text[1024] = "";
    for (int i = 0; i < n; ++i) {
      out[i] = def[i];
      char num[32];
      snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s", i ? "," : "", fmt_double(num, sizeof num, def[i]));
    }
    note_default(cfg, key, "%s", text);
    return n;
  }
  int n = 0;
  const char *p = s;
  while (1) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    char *item = trimmed_copy(p, len);
    double v;
    int bad = parse_double(item, &v) != 0 || !isfinite(v);
    if (bad) {
      sf_cfg_fail(cfg, "config key '%s': '%s' is not a finite number", key, item);
      free(item);
      return 0;
    }
    free(item);
    if (v < min || v > max) {
      sf_cfg_fail(cfg, "config key '%s': %g is out of range [%g, %g]", key, v, min, max);
      return 0;
    }
    if (n == cap) {
      sf_cfg_fail(cfg, "config key '%s': more than %d values", key, cap);
      return 0;
    }
    out[n++] = v;
    if (!comma) break;
    p = comma + 1;
  }
  return n;
}

int sf_cfg_check_unused(sf_config *cfg) {
  for (int i = 0; i < cfg->n; ++i)
    if (!cfg->items[i].used) {
      sf_cfg_fail(cfg, "unknown config key '%s'", cfg->items[i].key);
      return -1;
    }
  return 0;
}

int sf_cfg_count(const sf_config *cfg) { return cfg->n; }

void sf_cfg_entry(const sf_config *cfg, int i, const char **key, const char **value) {
  *key = cfg->items[i].key;
  *value = cfg->items[i].value;
}

int sf_cfg_write_ini(const sf_config *cfg, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  /* Top-level keys first, then one block per section in first-seen order. */
  for (int i = 0; i < cfg->n; ++i)
    if (!strchr(cfg->items[i].key, '.')) fprintf(f, "%s = %s\n", cfg->items[i].key, cfg->items[i].value);
  for (int i = 0; i < cfg->n; ++i) {
    const char *dot = strchr(cfg->items[i].key, '.');
    if (!dot) continue;
    size_t sl = (size_t)(dot - cfg->items[i].key);
    int seen = 0;
    for (int j = 0; j < i && !seen; ++j)
      seen = strncmp(cfg->items[j].key, cfg->items[i].key, sl + 1) == 0;
    if (seen) continue;
    fprintf(f, "\n[%.*s]\n", (int)sl, cfg->items[i].key);
    for (int j = i; j < cfg->n; ++j)
      if (strncmp(cfg->items[j].key, cfg->items[i].key, sl + 1) == 0)
        fprintf(f, "%s = %s\n", cfg->items[j].key + sl + 1, cfg->items[j].value);
  }
  int rc = ferror(f) ? -1 : 0;
  if (fclose(f) != 0) rc = -1;
  return rc;
}
