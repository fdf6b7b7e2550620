#include "sim/sf_breakdown.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sf_fileio.h"
#include "sim/sf_trajectory.h"

/* The time until constant velocity v carries offset x out of [-lim, lim]. */
static float exit_time(float x, float v, float lim) {
  if (v > 0) return (lim - x) / v;
  if (v < 0) return (lim + x) / -v;
  return INFINITY;
}

static void describe_start(const sf_env_model *m, const sf_quad_state *s, const float tp[3], const float tv[3],
                           sf_breakdown_episode *e) {
  memset(e, 0, sizeof *e);
  /* Body z against world z: R[2][2] = 1 - 2 (qx^2 + qy^2). */
  const float r22 = 1.0f - 2.0f * (s->q[1] * s->q[1] + s->q[2] * s->q[2]);
  e->tilt = acosf(fminf(1.0f, fmaxf(-1.0f, r22))) * 57.29577951f; /* deg */
  e->t_boundary = INFINITY;
  float v2 = 0, w2 = 0;
  for (int k = 0; k < 3; ++k) {
    const float dx = s->p[k] - tp[k], dv = s->v[k] - tv[k];
    e->pos = fmaxf(e->pos, fabsf(dx));
    e->t_boundary = fminf(e->t_boundary, exit_time(dx, dv, m->task.term_pos));
    v2 += dv * dv;
    w2 += s->w[k] * s->w[k];
  }
  e->vel = sqrtf(v2);
  e->angvel = sqrtf(w2);
}

int sf_breakdown_starts(sf_breakdown *b, const sf_env_model *m, const sf_env_data *d, long first, long count) {
  if (b->n + count > b->cap) {
    long cap = b->cap ? b->cap : 256;
    while (cap < b->n + count) cap *= 2;
    sf_breakdown_episode *ep = realloc(b->ep, sizeof *ep * cap);
    if (!ep) return -1;
    b->ep = ep, b->cap = cap;
  }
  b->dt = m->quad.dt;
  float tp[3], tv[3], ta[3];
  sf_traj_target(&m->task, 0.0f, tp, tv, ta);
  for (long i = 0; i < count; ++i) {
    sf_quad_state s;
    sf_quad_load(d->x, d->n, first + i, &s);
    describe_start(m, &s, tp, tv, &b->ep[b->n++]);
  }
  return 0;
}

void sf_breakdown_ends(sf_breakdown *b, const sf_score_episode *acc, long count) {
  sf_breakdown_episode *e = b->ep + b->n - count;
  for (long i = 0; i < count; ++i) {
    e[i].len = acc[i].len;
    e[i].crashed = acc[i].done && !acc[i].survived;
    e[i].ret = acc[i].ret_f;
  }
}

void sf_breakdown_free(sf_breakdown *b) {
  free(b->ep);
  memset(b, 0, sizeof *b);
}

/* One table: a start variable, its bins [edge[j], edge[j+1]) and a last
 * open one. */
typedef struct {
  const char *title;
  int field; /* 0 tilt, 1 pos, 2 vel, 3 angvel, 4 t_boundary, 5 crash time */
  float edge[8];
  int nedge;
} dimension;

static float value_of(const sf_breakdown *b, const sf_breakdown_episode *e, int field) {
  switch (field) {
    case 0: return e->tilt;
    case 1: return e->pos;
    case 2: return e->vel;
    case 3: return e->angvel;
    case 4: return e->t_boundary;
    default: return (float)e->len * b->dt;
  }
}

static const dimension dims[] = {
    {"start tilt (deg)", 0, {0, 15, 30, 45, 60, 75, 90}, 7},
    {"start position: largest |p - p*| of the axes (m)", 1, {0, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, 6},
    {"start speed |v - v*| (m/s)", 2, {0, 0.5f, 1.0f, 1.5f}, 4},
    {"start angular speed |w| (rad/s)", 3, {0, 0.5f, 1.0f, 1.5f}, 4},
    {"time to the boundary at the start velocity (s)", 4, {0, 0.1f, 0.2f, 0.4f, 0.8f, 1.6f}, 6},
    {"time of the crash (s)", 5, {0, 0.25f, 0.5f, 1.0f, 2.0f, 3.0f}, 6},
};

static int bin_of(const dimension *d, float v) {
  int j = 0;
  while (j + 1 < d->nedge && v >= d->edge[j + 1]) ++j;
  return j;
}

static void bin_label(const dimension *d, int j, char *out, size_t len) {
  if (j + 1 < d->nedge) snprintf(out, len, "%g to %g", d->edge[j], d->edge[j + 1]);
  else snprintf(out, len, "%g and more", d->edge[j]);
}

static void print_dimension(FILE *f, const sf_breakdown *b, const dimension *d, long crashes) {
  const int crash_time = d->field == 5;
  fprintf(f, "  %-50s %8s %8s %10s %10s %12s\n", d->title, crash_time ? "" : "episodes", "crashed",
          crash_time ? "" : "crash rate", "of crashes", crash_time ? "" : "mean return");
  for (int j = 0; j < d->nedge; ++j) {
    long n = 0, c = 0;
    double ret = 0;
    for (long i = 0; i < b->n; ++i) {
      const sf_breakdown_episode *e = &b->ep[i];
      if ((crash_time && !e->crashed) || bin_of(d, value_of(b, e, d->field)) != j) continue;
      ++n, c += e->crashed, ret += e->ret;
    }
    char label[64];
    bin_label(d, j, label, sizeof label);
    if (crash_time)
      fprintf(f, "    %-48s %8s %8ld %10s %10.3f\n", label, "", c, "", crashes ? (double)c / crashes : 0.0);
    else if (n)
      fprintf(f, "    %-48s %8ld %8ld %10.3f %10.3f %12.1f\n", label, n, c, (double)c / n,
              crashes ? (double)c / crashes : 0.0, ret / n);
    else
      fprintf(f, "    %-48s %8d %8s %10s %10s %12s\n", label, 0, "-", "-", "-", "-");
  }
}

void sf_breakdown_print(FILE *f, const sf_breakdown *b) {
  long crashes = 0, survivors = 0;
  double ret_s = 0, ret_c = 0, len_c = 0;
  for (long i = 0; i < b->n; ++i) {
    const sf_breakdown_episode *e = &b->ep[i];
    if (e->crashed) ++crashes, ret_c += e->ret, len_c += e->len;
    else ++survivors, ret_s += e->ret;
  }
  fprintf(f, "where the episodes end: %ld episodes, %ld crashed (rate %.3f)\n", b->n, crashes,
          b->n ? (double)crashes / b->n : 0.0);
  fprintf(f, "  mean return: surviving episodes %.1f (%ld), crashed episodes %.1f (%ld, mean crash at %.2f s)\n",
          survivors ? ret_s / survivors : NAN, survivors, crashes ? ret_c / crashes : NAN, crashes,
          crashes ? len_c / crashes * b->dt : NAN);
  for (size_t k = 0; k < sizeof dims / sizeof dims[0]; ++k) print_dimension(f, b, &dims[k], crashes);
}

static int same_starts(const sf_breakdown *a, const sf_breakdown *b) {
  if (a->n != b->n) return 0;
  for (long i = 0; i < a->n; ++i) {
    const sf_breakdown_episode *x = &a->ep[i], *y = &b->ep[i];
    if (x->tilt != y->tilt || x->pos != y->pos || x->vel != y->vel || x->angvel != y->angvel) return 0;
  }
  return 1;
}

static void print_paired_dimension(FILE *f, const sf_breakdown *a, const sf_breakdown *b, const dimension *d,
                                   const char *name_a, const char *name_b) {
  char only[64];
  snprintf(only, sizeof only, "only %s", name_a);
  fprintf(f, "  %-50s %8s %10.10s %10.10s %10.10s\n", d->title, "episodes", name_a, name_b, only);
  for (int j = 0; j < d->nedge; ++j) {
    long n = 0, ca = 0, cb = 0, oa = 0;
    for (long i = 0; i < a->n; ++i) {
      const sf_breakdown_episode *x = &a->ep[i], *y = &b->ep[i];
      if (bin_of(d, value_of(a, x, d->field)) != j) continue;
      ++n, ca += x->crashed, cb += y->crashed, oa += x->crashed && !y->crashed;
    }
    char label[64];
    bin_label(d, j, label, sizeof label);
    if (n)
      fprintf(f, "    %-48s %8ld %10.3f %10.3f %10ld\n", label, n, (double)ca / n, (double)cb / n, oa);
    else
      fprintf(f, "    %-48s %8d %10s %10s %10s\n", label, 0, "-", "-", "-");
  }
}

int sf_breakdown_print_paired(FILE *f, const sf_breakdown *a, const char *name_a, const sf_breakdown *b,
                              const char *name_b, char *err, size_t errlen) {
  if (!same_starts(a, b)) {
    snprintf(err, errlen, "the %s's and the %s's episodes did not start from the same states", name_a, name_b);
    return -1;
  }
  long both_ok = 0, only_a = 0, only_b = 0, both = 0;
  for (long i = 0; i < a->n; ++i) {
    const int x = a->ep[i].crashed, y = b->ep[i].crashed;
    both_ok += !x && !y, only_a += x && !y, only_b += !x && y, both += x && y;
  }
  fprintf(f, "the %s and the %s from the same %ld starts (the same observation noise): both survived %ld, only the "
             "%s crashed %ld, only the %s crashed %ld, both crashed %ld\n",
          name_a, name_b, a->n, both_ok, name_a, only_a, name_b, only_b, both);
  fprintf(f, "  crash rate of each, and the episodes only the %s crashed, by the start:\n", name_a);
  for (size_t k = 0; k + 1 < sizeof dims / sizeof dims[0]; ++k) print_paired_dimension(f, a, b, &dims[k], name_a, name_b);
  return 0;
}

int sf_breakdown_write_csv(const sf_breakdown *b, const char *path, char *err, size_t errlen) {
  FILE *f = sf_afopen(path, err, errlen);
  if (!f) return -1;
  fprintf(f, "episode,tilt_deg,pos_m,vel_m_s,angvel_rad_s,t_boundary_s,length,crashed,return\n");
  for (long i = 0; i < b->n; ++i) {
    const sf_breakdown_episode *e = &b->ep[i];
    fprintf(f, "%ld,%.6g,%.6g,%.6g,%.6g,", i, e->tilt, e->pos, e->vel, e->angvel);
    if (isfinite(e->t_boundary)) fprintf(f, "%.6g", e->t_boundary);
    fprintf(f, ",%d,%d,%.9g\n", e->len, e->crashed, e->ret);
  }
  return sf_afclose(f, path, 1, err, errlen);
}

int sf_breakdown_report(FILE *out, const sf_breakdown *b, const char *csv_path, char *err, size_t errlen) {
  sf_breakdown_print(out, b);
  if (!csv_path) return 0;
  if (sf_breakdown_write_csv(b, csv_path, err, errlen) != 0) return -1;
  fprintf(out, "  episodes written to %s\n", csv_path);
  return 0;
}
