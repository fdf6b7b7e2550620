#include "models/sf_mlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/sf_cpu_kernels.h"
#include "models/sf_lif_math.h"

#define PAR_MIN_WORK (1L << 16)
/* Elements per task of the element-wise loops: every agent's rows are split
 * among the threads, also for one agent. */
#define ELEM_BLOCK (1L << 14)

sf_mlp_config sf_critic_config(const char *name, int obs_dim, int act_dim) {
  sf_mlp_config c;
  memset(&c, 0, sizeof c);
  c.in = obs_dim + act_dim;
  c.nhidden = 2;
  c.hidden[0] = 256;
  c.hidden[1] = 128;
  c.out = 1;
  snprintf(c.name, sizeof c.name, "%s", name);
  return c;
}

sf_mlp_config sf_guide_config(int obs_dim, int act_dim) {
  sf_mlp_config c;
  memset(&c, 0, sizeof c);
  c.in = obs_dim;
  c.nhidden = 2;
  c.hidden[0] = 64;
  c.hidden[1] = 64;
  c.out = act_dim;
  c.tanh_out = 1;
  snprintf(c.name, sizeof c.name, "guide");
  return c;
}

static int width_in(const sf_mlp_config *c, int l) { return l ? c->hidden[l - 1] : c->in; }
static int width_out(const sf_mlp_config *c, int l) { return l < c->nhidden ? c->hidden[l] : c->out; }
static int max_width(const sf_mlp_config *c) {
  int m = c->out > c->in ? c->out : c->in;
  for (int l = 0; l < c->nhidden; ++l) m = c->hidden[l] > m ? c->hidden[l] : m;
  return m;
}

sf_mlp *sf_mlp_new(const sf_mlp_config *cfg, int P, long max_rows) {
  if (cfg->in < 1 || cfg->out < 1 || cfg->nhidden < 0 || cfg->nhidden > SF_MLP_MAX_HIDDEN || P < 1 || max_rows < 1)
    return NULL;
  for (int l = 0; l < cfg->nhidden; ++l)
    if (cfg->hidden[l] < 1) return NULL;
  sf_mlp *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->cfg = *cfg;
  m->P = P;
  m->max_rows = max_rows;
  sf_params_begin(&m->params, P);
  char name[SF_PARAM_NAME_MAX];
  for (int l = 0; l <= cfg->nhidden; ++l) {
    int K = width_in(cfg, l), N = width_out(cfg, l);
    float bound = sf_fan_in_bound(K);
    snprintf(name, sizeof name, "%s.fc%d.weight", cfg->name, l + 1);
    m->fc_w[l] = sf_params_add(&m->params, name, 2, N, K, -bound, bound);
    snprintf(name, sizeof name, "%s.fc%d.bias", cfg->name, l + 1);
    m->fc_b[l] = sf_params_add(&m->params, name, 1, N, 0, -bound, bound);
  }
  int ok = sf_params_alloc(&m->params) == 0;
  size_t R = (size_t)P * (size_t)max_rows;
  m->x = malloc(R * cfg->in * sizeof(float));
  ok = ok && m->x;
  for (int l = 0; l <= cfg->nhidden && ok; ++l) ok = (m->act[l] = malloc(R * width_out(cfg, l) * sizeof(float))) != NULL;
  for (int i = 0; i < 2 && ok; ++i) ok = (m->g[i] = malloc(R * max_width(cfg) * sizeof(float))) != NULL;
  if (!ok) {
    sf_mlp_free(m);
    return NULL;
  }
  return m;
}

void sf_mlp_free(sf_mlp *m) {
  if (!m) return;
  sf_params_free(&m->params);
  free(m->x);
  for (int l = 0; l <= SF_MLP_MAX_HIDDEN; ++l) free(m->act[l]);
  free(m->g[0]);
  free(m->g[1]);
  free(m);
}

void sf_mlp_init(sf_mlp *m, const uint64_t *seeds) { sf_params_init(&m->params, seeds); }

static const float *W(const sf_mlp *m, int l, int p) { return sf_param_at(&m->params.t[m->fc_w[l]], p); }
static const float *bias(const sf_mlp *m, int l, int p) { return sf_param_at(&m->params.t[m->fc_b[l]], p); }

int sf_mlp_forward(sf_mlp *m, long rows, const float *x1, int n1, const float *x2, float *y) {
  const sf_mlp_config *c = &m->cfg;
  const int n2 = c->in - n1;
  if (rows < 1 || rows > m->max_rows || n1 < 1 || n1 > c->in || (n2 > 0 && !x2)) return -1;
  const long R = m->max_rows;
  const int P = m->P, L = c->nhidden;
#pragma omp parallel for schedule(static) if ((long)P * rows * c->in > PAR_MIN_WORK)
  for (long i = 0; i < (long)P * rows; ++i) {
    long p = i / rows, r = i % rows;
    float *xr = m->x + p * R * c->in + r * c->in;
    memcpy(xr, x1 + i * n1, sizeof(float) * n1);
    if (n2 > 0) memcpy(xr + n1, x2 + i * n2, sizeof(float) * n2);
  }
  for (int l = 0; l <= L; ++l) {
    const int K = width_in(c, l), N = width_out(c, l);
    const float *in = l ? m->act[l - 1] : m->x;
    for (int p = 0; p < P; ++p)
      sf_gemm(0, 1, rows, N, K, in + (long)p * R * K, K, W(m, l, p), K, 0.0f, m->act[l] + (long)p * R * N, N);
    /* The bias joins in the activation's pass: x W^T + b, then ReLU or tanh
     * (one pass over the output instead of a bias fill before the product). */
    const int act = l < L ? 1 : (c->tanh_out ? 2 : 0);
    const long rb = ELEM_BLOCK / N > 0 ? ELEM_BLOCK / N : 1, nblk = (rows + rb - 1) / rb;
#pragma omp parallel for schedule(dynamic, 1) if ((long)P * rows * N > PAR_MIN_WORK)
    for (long t = 0; t < P * nblk; ++t) {
      const int p = (int)(t / nblk);
      const long r0 = t % nblk * rb, r1 = rows - r0 < rb ? rows : r0 + rb;
      const float *b = bias(m, l, p);
      for (long r = r0; r < r1; ++r) {
        float *a = m->act[l] + (long)p * R * N + r * N;
        if (act == 1)
          for (int n = 0; n < N; ++n) a[n] = sf_relu(a[n] + b[n]);
        else if (act == 2)
          for (int n = 0; n < N; ++n) a[n] = sf_tanh(a[n] + b[n]);
        else
          for (int n = 0; n < N; ++n) a[n] = a[n] + b[n];
      }
    }
  }
  for (int p = 0; p < P; ++p)
    memcpy(y + (long)p * rows * c->out, m->act[L] + (long)p * R * c->out, sizeof(float) * rows * c->out);
  m->rows = rows;
  m->n1 = n1;
  return 0;
}

int sf_mlp_backward(sf_mlp *m, const float *dy, int param_grads, float *dx1, float *dx2) {
  if (!m->rows) return -1;
  const sf_mlp_config *c = &m->cfg;
  const long R = m->max_rows, rows = m->rows;
  const int P = m->P, L = c->nhidden, O = c->out;
  float *g = m->g[0];
#pragma omp parallel for schedule(static) if ((long)P * rows * O > PAR_MIN_WORK)
  for (int p = 0; p < P; ++p) {
    const float *a = m->act[L] + (long)p * R * O;
    const float *d = dy + (long)p * rows * O;
    float *gp = g + (long)p * R * O;
    for (long i = 0; i < rows * O; ++i) gp[i] = c->tanh_out ? d[i] * sf_tanh_grad_out(a[i]) : d[i];
  }
  int cur = 0;
  for (int l = L; l >= 0; --l) {
    const int K = width_in(c, l), N = width_out(c, l);
    const float *in = l ? m->act[l - 1] : m->x;
    float *gl = m->g[cur];
    for (int p = 0; p < P; ++p) {
      sf_params *ps = &m->params;
      float *dW = param_grads ? sf_param_grad_at(&ps->t[m->fc_w[l]], p) : NULL;
      float *db = param_grads ? sf_param_grad_at(&ps->t[m->fc_b[l]], p) : NULL;
      float *dprev = l ? m->g[cur ^ 1] + (long)p * R * K : NULL;
      sf_linear_backward(rows, K, N, in + (long)p * R * K, K, W(m, l, p), K, gl + (long)p * R * N, dW, db, dprev, K);
    }
    if (l) {
      cur ^= 1;
      /* Through the ReLU of the layer below. */
      float *gp = m->g[cur];
      const long per = rows * K, nblk = (per + ELEM_BLOCK - 1) / ELEM_BLOCK;
#pragma omp parallel for schedule(dynamic, 1) if ((long)P * per > PAR_MIN_WORK)
      for (long t = 0; t < P * nblk; ++t) {
        const long i0 = t % nblk * ELEM_BLOCK, i1 = per - i0 < ELEM_BLOCK ? per : i0 + ELEM_BLOCK;
        const float *a = m->act[l - 1] + t / nblk * R * K;
        float *gq = gp + t / nblk * R * K;
        for (long i = i0; i < i1; ++i) gq[i] *= sf_relu_grad_out(a[i]);
      }
    }
  }
  /* m->g[cur] holds dL/d(first layer's output): the input gradients, per part. */
  const int n1 = m->n1, n2 = c->in - n1, N0 = width_out(c, 0);
  for (int p = 0; p < P; ++p) {
    const float *gp = m->g[cur] + (long)p * R * N0;
    if (dx1) sf_linear_backward(rows, n1, N0, NULL, 0, W(m, 0, p), c->in, gp, NULL, NULL, dx1 + (long)p * rows * n1, n1);
    if (dx2 && n2 > 0)
      sf_linear_backward(rows, n2, N0, NULL, 0, W(m, 0, p) + n1, c->in, gp, NULL, NULL, dx2 + (long)p * rows * n2, n2);
  }
  return 0;
}

int sf_twin_critic_new(sf_twin_critic *c, int P, long max_rows, int obs_dim, int act_dim) {
  static const char *names[2][2] = {{"critic1", "critic1_target"}, {"critic2", "critic2_target"}};
  memset(c, 0, sizeof *c);
  for (int i = 0; i < 2; ++i) {
    sf_mlp_config q = sf_critic_config(names[i][0], obs_dim, act_dim);
    sf_mlp_config t = sf_critic_config(names[i][1], obs_dim, act_dim);
    c->q[i] = sf_mlp_new(&q, P, max_rows);
    c->target[i] = sf_mlp_new(&t, P, max_rows);
    if (!c->q[i] || !c->target[i]) {
      sf_twin_critic_free(c);
      return -1;
    }
  }
  return 0;
}

void sf_twin_critic_free(sf_twin_critic *c) {
  for (int i = 0; i < 2; ++i) {
    sf_mlp_free(c->q[i]);
    sf_mlp_free(c->target[i]);
    c->q[i] = c->target[i] = NULL;
  }
}

void sf_twin_critic_init(sf_twin_critic *c, const uint64_t *seeds) {
  for (int i = 0; i < 2; ++i) {
    sf_mlp_init(c->q[i], seeds);
    sf_params_copy(&c->target[i]->params, &c->q[i]->params);
  }
}

void sf_twin_critic_polyak(sf_twin_critic *c, float tau) {
  for (int i = 0; i < 2; ++i) sf_params_polyak(&c->target[i]->params, &c->q[i]->params, tau);
}
