/* CSV logs: a header written once, then one row per call, flushed so a
 * killed run keeps every finished row. */
#ifndef SF_CSV_H
#define SF_CSV_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  FILE *f;
  int ncols;
} sf_csv;

/* Open `path` for writing with the given column names (comma-separated).
 * append != 0 keeps existing rows (a resumed run). Returns 0 or -1. */
int sf_csv_open(sf_csv *c, const char *path, const char *columns, int append);
/* One row of ncols numbers; integers print without a fraction. */
int sf_csv_row(sf_csv *c, const double *values);
void sf_csv_close(sf_csv *c);

#ifdef __cplusplus
}
#endif
#endif
