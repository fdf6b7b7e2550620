#include "rl/sf_record.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_fileio.h"
#include "core/sf_tfevents.h"

typedef struct {
  const char *name;
  size_t offset;
  int tb;
} field;

static const field fields[] = {
#define SF_RECORD_FIELD(f, tb) {#f, offsetof(sf_record, f), tb},
    SF_RECORD_FIELDS(SF_RECORD_FIELD)
#undef SF_RECORD_FIELD
};
enum { NFIELDS = sizeof fields / sizeof fields[0] };

static double *at(sf_record *r, int i) { return (double *)((char *)r + fields[i].offset); }
static double get(const sf_record *r, int i) { return *(const double *)((const char *)r + fields[i].offset); }

void sf_record_clear(sf_record *r) {
  for (int i = 0; i < NFIELDS; ++i) *at(r, i) = NAN;
  r->setting[0] = 0;
}

struct sf_record_log {
  FILE *csv;
  char path[1024];
  sf_tb_writer *tb;
  char err[512]; /* the first failure */
};

static void fail(sf_record_log *log, const char *what) {
  if (!log->err[0]) snprintf(log->err, sizeof log->err, "%s", what);
}

/* One CSV row; integers print without a fraction. The setting is quoted
 * when it holds a comma or a quote. */
static void csv_row(FILE *f, const sf_record *r) {
  for (int i = 0; i < NFIELDS; ++i) {
    const double v = get(r, i);
    if (v == floor(v) && fabs(v) < 1e15) fprintf(f, "%.0f,", v);
    else fprintf(f, "%.9g,", v);
  }
  if (strpbrk(r->setting, ",\"")) {
    fputc('"', f);
    for (const char *c = r->setting; *c; ++c) {
      if (*c == '"') fputc('"', f);
      fputc(*c, f);
    }
    fputs("\"\n", f);
  } else {
    fprintf(f, "%s\n", r->setting);
  }
}

static void csv_header(FILE *f) {
  for (int i = 0; i < NFIELDS; ++i) fprintf(f, "%s,", fields[i].name);
  fputs("setting\n", f);
}

/* A TensorBoard tag prefix from a setting: spaces become commas. */
static void tag_prefix(const sf_record *r, char *out, size_t len) {
  if (!r->setting[0]) {
    snprintf(out, len, "agent%.0f", r->agent);
    return;
  }
  snprintf(out, len, "%s", r->setting);
  for (char *c = out; *c; ++c)
    if (*c == ' ') *c = ',';
}

static int tb_write(sf_record_log *log, const sf_record *r) {
  if (!log->tb) return 0;
  char prefix[200], tag[256];
  tag_prefix(r, prefix, sizeof prefix);
  for (int i = 0; i < NFIELDS; ++i) {
    const double v = get(r, i);
    if (!fields[i].tb || !isfinite(v)) continue;
    snprintf(tag, sizeof tag, "%s/%s", prefix, fields[i].name);
    if (sf_tb_scalar(log->tb, tag, (int64_t)r->epoch, (float)v, sf_tb_now()) != 0) return -1;
  }
  return sf_tb_flush(log->tb);
}

/* Remove the event files of `dir` other than `keep`. */
static void remove_other_events(const char *dir, const char *keep) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[1280];
  while ((e = readdir(d)))
    if (!strncmp(e->d_name, "events.out.tfevents.", 20)) {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      if (strcmp(path, keep)) remove(path);
    }
  closedir(d);
}

sf_record_log *sf_record_open(const char *dir, const sf_record *kept, int nkept, char *err, size_t errlen) {
  sf_record_log *log = calloc(1, sizeof *log);
  if (!log) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  snprintf(log->path, sizeof log->path, "%s/progress.csv", dir);
  /* The kept rows go to a temporary file renamed over progress.csv: an
   * interruption leaves the old file or the new one, never half of one. */
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp", log->path);
  FILE *f = fopen(tmp, "w");
  if (f) {
    csv_header(f);
    for (int i = 0; i < nkept; ++i) csv_row(f, &kept[i]);
  }
  if (!f || fflush(f) != 0 || ferror(f) || fclose(f) != 0 || rename(tmp, log->path) != 0) {
    snprintf(err, errlen, "cannot write '%s'", log->path);
    if (f) remove(tmp);
    free(log);
    return NULL;
  }
  log->csv = fopen(log->path, "a");
  if (!log->csv) {
    snprintf(err, errlen, "cannot write '%s'", log->path);
    free(log);
    return NULL;
  }
  char tb_err[512];
  log->tb = sf_tb_open(dir, tb_err, sizeof tb_err);
  if (!log->tb) {
    fprintf(stderr, "spikefly: no TensorBoard events: %s\n", tb_err);
  } else {
    for (int i = 0; i < nkept; ++i)
      if (tb_write(log, &kept[i]) != 0) fail(log, sf_tb_error(log->tb));
    remove_other_events(dir, sf_tb_path(log->tb));
  }
  return log;
}

int sf_record_write(sf_record_log *log, const sf_record *r) {
  csv_row(log->csv, r);
  if (fflush(log->csv) != 0 || ferror(log->csv)) fail(log, "cannot append to progress.csv");
  if (tb_write(log, r) != 0) fail(log, log->tb ? sf_tb_error(log->tb) : "TensorBoard");
  return log->err[0] ? -1 : 0;
}

int sf_record_close(sf_record_log *log, char *err, size_t errlen) {
  if (!log) return 0;
  if (fclose(log->csv) != 0) fail(log, "cannot close progress.csv");
  char tb_err[512];
  if (log->tb && sf_tb_close(log->tb, tb_err, sizeof tb_err) != 0) fail(log, tb_err);
  int rc = log->err[0] ? -1 : 0;
  if (rc) snprintf(err, errlen, "%s: %s", log->path, log->err);
  free(log);
  return rc;
}

/* ---- reading -------------------------------------------------------------- */

/* Split one CSV line in place into at most cap cells (double quotes group,
 * "" inside quotes is a quote). Returns the number of cells. */
static int split(char *line, char **cell, int cap) {
  int n = 0;
  char *w = line, *r = line;
  while (n < cap) {
    cell[n++] = w;
    int quoted = *r == '"';
    if (quoted) ++r;
    for (;; ++r) {
      if (quoted && *r == '"' && r[1] == '"') {
        *w++ = '"';
        ++r;
      } else if (quoted && *r == '"') {
        quoted = 0;
      } else if (!quoted && (*r == ',' || *r == '\n' || *r == '\r' || !*r)) {
        break;
      } else {
        *w++ = *r;
      }
    }
    const char end = *r;
    *w++ = 0;
    if (end != ',') break;
    w = ++r;
  }
  return n;
}

int sf_record_read(const char *path, sf_record **rows, int *n, char *err, size_t errlen) {
  *rows = NULL;
  *n = 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "cannot read '%s'", path);
    return -1;
  }
  enum { MAXC = 64 };
  char line[4096], *cell[MAXC];
  int col[MAXC], setting_col = -1, ncols = 0, rc = 0, cap = 0, lineno = 1;
  if (!fgets(line, sizeof line, f)) {
    snprintf(err, errlen, "%s: empty file (no header)", path);
    fclose(f);
    return -1;
  }
  ncols = split(line, cell, MAXC);
  int have_epoch = 0, have_agent = 0;
  for (int c = 0; c < ncols; ++c) {
    col[c] = -1;
    if (!strcmp(cell[c], "setting")) setting_col = c;
    for (int i = 0; i < NFIELDS; ++i)
      if (!strcmp(cell[c], fields[i].name)) col[c] = i;
    have_epoch |= !strcmp(cell[c], "epoch");
    have_agent |= !strcmp(cell[c], "agent");
  }
  if (!have_epoch || !have_agent) {
    snprintf(err, errlen, "%s: no 'epoch' and 'agent' columns: not a progress.csv of spikefly train", path);
    fclose(f);
    return -1;
  }
  while (rc == 0 && fgets(line, sizeof line, f)) {
    ++lineno;
    const size_t len = strlen(line);
    if (len == 0 || line[len - 1] != '\n') {
      snprintf(err, errlen, "%s: line %d is incomplete (a truncated file?)", path, lineno);
      rc = -1;
      break;
    }
    if (split(line, cell, MAXC) != ncols) {
      snprintf(err, errlen, "%s: line %d has not the %d columns of the header", path, lineno, ncols);
      rc = -1;
      break;
    }
    if (*n == cap) {
      cap = cap ? 2 * cap : 256;
      sf_record *grown = realloc(*rows, sizeof **rows * cap);
      if (!grown) {
        snprintf(err, errlen, "out of memory reading '%s'", path);
        rc = -1;
        break;
      }
      *rows = grown;
    }
    sf_record *r = &(*rows)[*n];
    sf_record_clear(r);
    for (int c = 0; c < ncols && rc == 0; ++c) {
      if (c == setting_col) snprintf(r->setting, sizeof r->setting, "%s", cell[c]);
      if (col[c] < 0) continue;
      char *end;
      const double v = strtod(cell[c], &end);
      if (end == cell[c] || *end) {
        snprintf(err, errlen, "%s: line %d: column '%s' holds '%s', not a number", path, lineno,
                 fields[col[c]].name, cell[c]);
        rc = -1;
      }
      *at(r, col[c]) = v;
    }
    ++*n;
  }
  fclose(f);
  if (rc) {
    free(*rows);
    *rows = NULL;
    *n = 0;
  }
  return rc;
}
