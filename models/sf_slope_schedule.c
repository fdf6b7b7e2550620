#include "models/sf_slope_schedule.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {"fixed", "interval", "adaptive", NULL};

const char *sf_slope_kind_name(sf_slope_kind kind) { return kind_names[kind]; }

sf_slope_config sf_slope_default(sf_slope_kind kind) {
  sf_slope_config c;
  c.kind = kind;
  c.k_start = 2.0f;
  c.k_max = 100.0f;
  c.k_min = 1.0f;
  c.k_cap = 100.0f;
  c.interval = 10;
  c.steps = 10;
  c.window = 10;
  c.order = 3.0f;
  c.return_scale = 400.0f;
  return c;
}

sf_slope_config sf_slope_config_read(sf_config *cfg, const char *prefix) {
  char key[128];
#define KEY(name) (snprintf(key, sizeof key, "%s.%s", prefix, name), key)
  sf_slope_kind kind = (sf_slope_kind)sf_cfg_choice(cfg, KEY("schedule"), "fixed", kind_names);
  sf_slope_config c = sf_slope_default(kind);
  c.k_start = (float)sf_cfg_float(cfg, KEY("slope"), c.k_start, 1e-3, 1e4);
  c.k_max = (float)sf_cfg_float(cfg, KEY("slope_max"), c.k_max, 1e-3, 1e4);
  c.interval = (int)sf_cfg_int(cfg, KEY("slope_interval"), c.interval, 1, 1000000);
  c.steps = (int)sf_cfg_int(cfg, KEY("slope_steps"), c.steps, 1, 1000000);
  c.window = (int)sf_cfg_int(cfg, KEY("slope_window"), c.window, 1, SF_SLOPE_WINDOW_MAX);
  c.order = (float)sf_cfg_float(cfg, KEY("slope_order"), c.order, 0.1, 10.0);
  c.return_scale = (float)sf_cfg_float(cfg, KEY("return_scale"), c.return_scale, 1e-6, 1e9);
#undef KEY
  return c;
}

void sf_slope_init(sf_slope_schedule *s, const sf_slope_config *cfg) {
  memset(s, 0, sizeof *s);
  s->cfg = *cfg;
  s->k = cfg->k_start;
}

static float adaptive_k(const sf_slope_schedule *s) {
  const sf_slope_config *c = &s->cfg;
  /* hist holds up to window + 1 returns: the extra oldest one gives the
   * first windowed return its difference. */
  int first = s->nhist > c->window ? s->nhist - c->window : 0;
  double sum = 0.0;
  int n = 0;
  for (int i = first; i < s->nhist; ++i, ++n) {
    double x = s->hist[i];
    double dx = i > 0 ? x - s->hist[i - 1] : 0.0;
    sum += 0.5 * x + 0.5 * dx;
  }
  double m = n ? sum / n : 0.0;
  double shaped = copysign(pow(fabs(m), c->order), m);
  double k = c->k_start + (c->k_max - c->k_start) * shaped;
  if (k < c->k_min) k = c->k_min;
  if (k > c->k_cap) k = c->k_cap;
  return (float)k;
}

float sf_slope_update(sf_slope_schedule *s, int epoch, float eval_return) {
  const sf_slope_config *c = &s->cfg;
  s->n_evals++;
  float x = eval_return / c->return_scale;
  if (!(x >= -1.0f)) x = -1.0f; /* also maps NaN to the worst return */
  if (x > 1.0f) x = 1.0f;
  if (s->nhist == c->window + 1) {
    memmove(s->hist, s->hist + 1, (size_t)c->window * sizeof s->hist[0]);
    s->nhist--;
  }
  s->hist[s->nhist++] = x;
  switch (c->kind) {
    case SF_SLOPE_FIXED:
      s->k = c->k_start;
      break;
    case SF_SLOPE_INTERVAL: {
      int done = epoch / c->interval;
      if (done > c->steps) done = c->steps;
      s->k = c->k_start + (c->k_max - c->k_start) * (float)done / (float)c->steps;
      break;
    }
    case SF_SLOPE_ADAPTIVE:
      s->k = adaptive_k(s);
      break;
  }
  return s->k;
}

void sf_slope_state_save(const sf_slope_schedule *s, double out[SF_SLOPE_STATE_LEN]) {
  memset(out, 0, SF_SLOPE_STATE_LEN * sizeof out[0]);
  out[0] = s->k;
  out[1] = s->n_evals;
  out[2] = s->nhist;
  for (int i = 0; i < s->nhist; ++i) out[3 + i] = s->hist[i];
}

int sf_slope_state_load(sf_slope_schedule *s, const double in[SF_SLOPE_STATE_LEN]) {
  int nhist = (int)in[2];
  if (!(in[0] > 0.0) || !isfinite(in[0]) || in[1] < 0 || in[2] < 0 || nhist != in[2] ||
      nhist > s->cfg.window + 1)
    return -1;
  for (int i = 0; i < nhist; ++i)
    if (!(in[3 + i] >= -1.0 && in[3 + i] <= 1.0)) return -1;
  s->k = (float)in[0];
  s->n_evals = (int)in[1];
  s->nhist = nhist;
  for (int i = 0; i < nhist; ++i) s->hist[i] = (float)in[3 + i];
  return 0;
}
