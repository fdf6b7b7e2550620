#include "rl/sf_csv.h"

#include <math.h>
#include <string.h>

int sf_csv_open(sf_csv *c, const char *path, const char *columns, int append) {
  c->ncols = 1;
  for (const char *p = columns; *p; ++p) c->ncols += *p == ',';
  c->f = fopen(path, append ? "a" : "w");
  if (!c->f) return -1;
  if (!append || ftell(c->f) == 0) fprintf(c->f, "%s\n", columns);
  return fflush(c->f) == 0 ? 0 : -1;
}

int sf_csv_row(sf_csv *c, const double *v) {
  for (int i = 0; i < c->ncols; ++i) {
    if (i) fputc(',', c->f);
    if (v[i] == floor(v[i]) && fabs(v[i]) < 1e15)
      fprintf(c->f, "%.0f", v[i]);
    else
      fprintf(c->f, "%.9g", v[i]);
  }
  fputc('\n', c->f);
  return fflush(c->f) == 0 && !ferror(c->f) ? 0 : -1;
}

void sf_csv_close(sf_csv *c) {
  if (c->f) fclose(c->f);
  c->f = NULL;
}
