#include "models/sf_snn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/sf_cpu_kernels.h"
#include "models/sf_lif_math.h"

/* Work split of the LIF loops: tiles of at most TILE_N neurons times one of
 * at most MAX_BCHUNKS row ranges. The split depends on the shapes only, not
 * on the thread count, so the sums of backward come out the same on any
 * machine. Tasks are handed out as threads come free (schedule(dynamic)):
 * a thread the OS has paused on a busy machine does not hold up the
 * others, and a task computes the same whichever thread runs it. */
#define TILE_N SF_LIF_TILE_MAX
#define MAX_BCHUNKS 16
/* Rows per task of the forward product. */
#define ROW_BLOCK 16
/* Loops with fewer element operations than this run on one thread: waking a
 * team costs more than small calls (a streaming step of a few envs) take. */
#define PAR_MIN_WORK (1L << 16)

sf_snn_config sf_snn_actor_config(void) {
  sf_snn_config c;
  memset(&c, 0, sizeof c);
  c.in = 18;
  c.nlayers = 2;
  c.hidden[0] = 256;
  c.hidden[1] = 128;
  c.out = 4;
  c.tanh_out = 1;
  c.mode = SF_SPIKE_HEAVISIDE;
  c.detach_reset = 1;
  snprintf(c.name, sizeof c.name, "actor");
  return c;
}

static int config_ok(const sf_snn_config *c) {
  if (c->in < 1 || c->out < 1 || c->nlayers < 1 || c->nlayers > SF_SNN_MAX_LAYERS) return 0;
  for (int l = 0; l < c->nlayers; ++l)
    if (c->hidden[l] < 1) return 0;
  return c->mode == SF_SPIKE_HEAVISIDE || c->mode == SF_SPIKE_SIGMOID;
}

static int layer_in(const sf_snn_config *c, int l) { return l ? c->hidden[l - 1] : c->in; }
static int layer_out(const sf_snn_config *c, int l) { return l < c->nlayers ? c->hidden[l] : c->out; }
static int max_hidden(const sf_snn_config *c) {
  int m = 0;
  for (int l = 0; l < c->nlayers; ++l) m = c->hidden[l] > m ? c->hidden[l] : m;
  return m;
}
static int hidden_offset(const sf_snn_config *c, int l) {
  int o = 0;
  for (int i = 0; i < l; ++i) o += c->hidden[i];
  return o;
}

static float *alloc_floats(size_t n) { return malloc((n ? n : 1) * sizeof(float)); }

sf_snn *sf_snn_new(const sf_snn_config *cfg, int P, long max_rows) {
  if (!config_ok(cfg) || P < 1 || max_rows < 1) return NULL;
  sf_snn *net = calloc(1, sizeof *net);
  if (!net) return NULL;
  net->cfg = *cfg;
  net->P = P;
  net->max_rows = max_rows;
  const int L = cfg->nlayers;
  sf_params *ps = &net->params;
  sf_params_begin(ps, P);
  char name[SF_PARAM_NAME_MAX];
  for (int l = 0; l <= L; ++l) {
    int K = layer_in(cfg, l), N = layer_out(cfg, l);
    float bound = sf_fan_in_bound(K);
    snprintf(name, sizeof name, "%s.fc%d.weight", cfg->name, l + 1);
    net->fc_w[l] = sf_params_add(ps, name, 2, N, K, -bound, bound);
    snprintf(name, sizeof name, "%s.fc%d.bias", cfg->name, l + 1);
    net->fc_b[l] = sf_params_add(ps, name, 1, N, 0, -bound, bound);
    if (l < L) {
      snprintf(name, sizeof name, "%s.lif%d.beta", cfg->name, l + 1);
      net->lif_beta[l] = sf_params_add(ps, name, 1, N, 0, 0.0f, 1.0f);
      snprintf(name, sizeof name, "%s.lif%d.threshold", cfg->name, l + 1);
      net->lif_theta[l] = sf_params_add(ps, name, 1, N, 0, 0.0f, 1.0f);
    }
    net->wt_off[l] = net->wt_size;
    net->wt_size += (long)K * N;
  }
  int ok = sf_params_alloc(ps) == 0;
  size_t Pz = (size_t)P, R = (size_t)max_rows, H = (size_t)max_hidden(cfg);
  net->slope = alloc_floats(Pz);
  net->wt = alloc_floats(Pz * (size_t)net->wt_size);
  net->wt_src = alloc_floats(Pz * (size_t)ps->n);
  net->beta_c = alloc_floats(Pz * (size_t)hidden_offset(cfg, L));
  net->x = alloc_floats(Pz * R * (size_t)cfg->in);
  net->y = alloc_floats(Pz * R * (size_t)cfg->out);
  net->gy = alloc_floats(Pz * R * (size_t)cfg->out);
  net->g = alloc_floats(Pz * R * H);
  net->acc = alloc_floats(Pz * MAX_BCHUNKS * 3 * H);
  ok = ok && net->slope && net->wt && net->wt_src && net->beta_c && net->x && net->y && net->gy && net->g && net->acc;
  for (int l = 0; l < L && ok; ++l) {
    net->u[l] = alloc_floats(Pz * R * (size_t)cfg->hidden[l]);
    net->s[l] = alloc_floats(Pz * R * (size_t)cfg->hidden[l]);
    ok = net->u[l] && net->s[l];
  }
  if (!ok) {
    sf_snn_free(net);
    return NULL;
  }
  for (int p = 0; p < P; ++p) net->slope[p] = 1.0f;
  return net;
}

void sf_snn_free(sf_snn *net) {
  if (!net) return;
  sf_params_free(&net->params);
  free(net->slope);
  free(net->wt);
  free(net->wt_src);
  free(net->beta_c);
  free(net->x);
  free(net->y);
  free(net->gy);
  free(net->g);
  free(net->acc);
  for (int l = 0; l < SF_SNN_MAX_LAYERS; ++l) {
    free(net->u[l]);
    free(net->s[l]);
  }
  free(net);
}

void sf_snn_init(sf_snn *net, const uint64_t *seeds) { sf_params_init(&net->params, seeds); }

static const float *param(const sf_snn *net, int idx, int p) { return sf_param_at(&net->params.t[idx], p); }
static float *grad(const sf_snn *net, int idx, int p) { return sf_param_grad_at(&net->params.t[idx], p); }
static const float *beta_c(const sf_snn *net, int l, int p) {
  return net->beta_c + (long)p * hidden_offset(&net->cfg, net->cfg.nlayers) + hidden_offset(&net->cfg, l);
}

/* What the forward product and the LIF loops read from the parameters:
 * weights transposed, betas clamped. Checked on every call against a copy
 * of the parameters they were made from, so a parameter update is never
 * missed; the copy spares the streaming step (a few envs per call) the
 * strided pass over every weight. */
static void prepare(sf_snn *net) {
  const sf_snn_config *c = &net->cfg;
  const int L = c->nlayers;
  const long n = net->params.n;
#pragma omp parallel for schedule(static) if ((long)net->P * net->wt_size > PAR_MIN_WORK)
  for (int p = 0; p < net->P; ++p) {
    const float *src = net->params.data + p * n;
    float *seen = net->wt_src + p * n;
    if (net->wt_valid && !memcmp(seen, src, sizeof(float) * n)) continue;
    for (int l = 0; l <= L; ++l)
      sf_transpose(param(net, net->fc_w[l], p), layer_out(c, l), layer_in(c, l),
                   net->wt + (long)p * net->wt_size + net->wt_off[l]);
    for (int l = 0; l < L; ++l) {
      const float *b = param(net, net->lif_beta[l], p);
      float *bc = (float *)beta_c(net, l, p);
      for (int k = 0; k < c->hidden[l]; ++k) bc[k] = sf_beta_clamp(b[k]);
    }
    memcpy(seen, src, sizeof(float) * n);
  }
  net->wt_valid = 1;
}

/* Layer l's linear map over `rows` rows of every agent: in [P][in_stride]
 * (rows x K used), out [P][out_stride] (rows x N written). */
static void linear_forward(sf_snn *net, int l, long rows, const float *in, long in_stride, float *out,
                           long out_stride) {
  const int K = layer_in(&net->cfg, l), N = layer_out(&net->cfg, l);
  const long nblk = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
  const long ntask = (long)net->P * nblk;
#pragma omp parallel for schedule(dynamic, 1) if ((long)net->P * rows * K * N > PAR_MIN_WORK)
  for (long i = 0; i < ntask; ++i) {
    int p = (int)(i / nblk);
    long r0 = (i % nblk) * ROW_BLOCK;
    long nr = rows - r0 < ROW_BLOCK ? rows - r0 : ROW_BLOCK;
    sf_linear_rows(nr, K, N, in + p * in_stride + r0 * K, net->wt + (long)p * net->wt_size + net->wt_off[l],
                   param(net, net->fc_b[l], p), out + p * out_stride + r0 * N);
  }
}

static void readout_activation(const sf_snn *net, long rows, float *y, long stride) {
  if (!net->cfg.tanh_out) return;
  const int O = net->cfg.out;
#pragma omp parallel for schedule(static) if ((long)net->P * rows * O > PAR_MIN_WORK)
  for (int p = 0; p < net->P; ++p)
    for (long i = 0; i < rows * O; ++i) y[p * stride + i] = sf_tanh(y[p * stride + i]);
}

static int bchunks(int B) { return B < MAX_BCHUNKS ? B : MAX_BCHUNKS; }

int sf_snn_forward(sf_snn *net, int T, int B, const float *x, float *y) {
  if (T < 1 || B < 1 || (long)T * B > net->max_rows) return -1;
  const sf_snn_config *c = &net->cfg;
  const int L = c->nlayers, P = net->P;
  const long rows = (long)T * B, R = net->max_rows;
  prepare(net);
  for (int p = 0; p < P; ++p) memcpy(net->x + p * R * c->in, x + p * rows * c->in, sizeof(float) * rows * c->in);
  const float *in = net->x;
  long in_stride = R * c->in;
  for (int l = 0; l < L; ++l) {
    const int N = c->hidden[l];
    linear_forward(net, l, rows, in, in_stride, net->u[l], R * N);
    const int nbc = bchunks(B), nnc = (N + TILE_N - 1) / TILE_N;
#pragma omp parallel for schedule(dynamic, 1) if ((long)P * rows * N > PAR_MIN_WORK)
    for (int i = 0; i < P * nbc * nnc; ++i) {
      int p = i / (nbc * nnc), bc = i / nnc % nbc, nc = i % nnc;
      int n0 = nc * TILE_N, n1 = n0 + TILE_N < N ? n0 + TILE_N : N;
      sf_lif_forward_tile(c->mode, net->slope[p], T, B, N, (int)((long)bc * B / nbc), (int)((long)(bc + 1) * B / nbc),
                          n0, n1, beta_c(net, l, p), param(net, net->lif_theta[l], p), net->u[l] + p * R * N,
                          net->s[l] + p * R * N);
    }
    in = net->s[l];
    in_stride = R * N;
  }
  linear_forward(net, L, rows, in, in_stride, net->y, R * c->out);
  readout_activation(net, rows, net->y, R * c->out);
  for (int p = 0; p < P; ++p) memcpy(y + p * rows * c->out, net->y + p * R * c->out, sizeof(float) * rows * c->out);
  net->seq_T = T;
  net->seq_B = B;
  return 0;
}

/* Backpropagation through layer l's linear map for agent p over `rows` rows:
 * x its input, dy the gradient of its output. Adds the weight gradient (and
 * the readout's bias gradient; the LIF layers sum theirs with beta's) and
 * writes dL/dx (NULL: not wanted). */
static void weight_grads(sf_snn *net, int l, long rows, const float *x, const float *dy, int p, float *dx) {
  const sf_snn_config *c = &net->cfg;
  const int K = layer_in(c, l), N = layer_out(c, l);
  sf_linear_backward(rows, K, N, x, K, param(net, net->fc_w[l], p), K, dy, grad(net, net->fc_w[l], p),
                     l == c->nlayers ? grad(net, net->fc_b[l], p) : NULL, dx, K);
}

int sf_snn_backward(sf_snn *net, int warmup, const float *dy, float *dx) {
  if (!net->seq_T) return -1;
  const sf_snn_config *c = &net->cfg;
  const int L = c->nlayers, P = net->P, T = net->seq_T, B = net->seq_B, O = c->out;
  const long rows = (long)T * B, R = net->max_rows;
  const int H = max_hidden(c);

  /* dL/d(readout pre-activation); the warm-up steps carry no loss. */
#pragma omp parallel for schedule(static) if ((long)P * rows * O > PAR_MIN_WORK)
  for (int p = 0; p < P; ++p) {
    for (long r = 0; r < rows; ++r) {
      const float *d = dy + (p * rows + r) * O, *yr = net->y + p * R * O + r * O;
      float *g = net->gy + p * R * O + r * O;
      int live = r / B >= warmup;
      for (int j = 0; j < O; ++j) g[j] = live ? (c->tanh_out ? d[j] * sf_tanh_grad_out(yr[j]) : d[j]) : 0.0f;
    }
  }
  /* Readout: its weight and bias gradients, and dL/dS of the last LIF layer. */
  for (int p = 0; p < P; ++p)
    weight_grads(net, L, rows, net->s[L - 1] + p * R * c->hidden[L - 1], net->gy + p * R * O, p, net->g + p * R * H);

  for (int l = L - 1; l >= 0; --l) {
    const int N = c->hidden[l], K = layer_in(c, l);
    const int nbc = bchunks(B), nnc = (N + TILE_N - 1) / TILE_N;
#pragma omp parallel for schedule(dynamic, 1) if ((long)P * rows * N > PAR_MIN_WORK)
    for (int i = 0; i < P * nbc * nnc; ++i) {
      int p = i / (nbc * nnc), bc = i / nnc % nbc, nc = i % nnc;
      int n0 = nc * TILE_N, n1 = n0 + TILE_N < N ? n0 + TILE_N : N;
      sf_lif_backward_tile(c->mode, c->detach_reset, net->slope[p], T, B, N, (int)((long)bc * B / nbc),
                           (int)((long)(bc + 1) * B / nbc), n0, n1, beta_c(net, l, p),
                           param(net, net->lif_theta[l], p), net->u[l] + p * R * N, net->s[l] + p * R * N,
                           net->g + p * R * H, net->acc + ((long)p * MAX_BCHUNKS + bc) * 3 * H + 3 * n0);
    }
    /* Per-neuron sums over the row chunks, in a fixed order. */
#pragma omp parallel for schedule(static) if ((long)P * nbc * N > PAR_MIN_WORK)
    for (int p = 0; p < P; ++p) {
      const float *beta = param(net, net->lif_beta[l], p);
      float *gb = grad(net, net->lif_beta[l], p), *gt = grad(net, net->lif_theta[l], p);
      float *gbias = grad(net, net->fc_b[l], p);
      for (int n = 0; n < N; ++n) {
        int n0 = n / TILE_N * TILE_N, w = (n0 + TILE_N < N ? TILE_N : N - n0), j = n - n0;
        double sb = 0, st = 0, si = 0;
        for (int bc = 0; bc < nbc; ++bc) {
          const float *a = net->acc + ((long)p * MAX_BCHUNKS + bc) * 3 * H + 3 * n0;
          sb += a[j];
          st += a[w + j];
          si += a[2 * w + j];
        }
        gb[n] = (float)(gb[n] + sb * sf_beta_clamp_grad(beta[n]));
        gt[n] = (float)(gt[n] + st);
        gbias[n] = (float)(gbias[n] + si);
      }
    }
    /* u[l] now holds dL/dI of layer l: the weight gradient of fc(l+1) and the
     * gradient flowing to the layer below (or to the input). */
    const float *xin = l ? net->s[l - 1] : net->x;
    const long xs = l ? R * K : R * c->in;
    for (int p = 0; p < P; ++p)
      weight_grads(net, l, rows, xin + p * xs, net->u[l] + p * R * N, p,
                   l ? net->g + p * R * H : (dx ? dx + p * rows * c->in : NULL));
  }
  net->seq_T = 0;
  return 0;
}

sf_snn_state *sf_snn_state_new(const sf_snn *net, int B) {
  if (B < 1) return NULL;
  sf_snn_state *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->P = net->P;
  st->B = B;
  st->nlayers = net->cfg.nlayers;
  int ok = 1;
  for (int l = 0; l < st->nlayers && ok; ++l) {
    st->hidden[l] = net->cfg.hidden[l];
    st->u[l] = calloc((size_t)st->P * B * st->hidden[l], sizeof(float));
    st->s[l] = calloc((size_t)st->P * B * st->hidden[l], sizeof(float));
    ok = st->u[l] && st->s[l];
  }
  if (ok) sf_snn_state_reset_all(st);
  st->cur = alloc_floats((size_t)st->P * B * max_hidden(&net->cfg));
  if (!ok || !st->cur) {
    sf_snn_state_free(st);
    return NULL;
  }
  return st;
}

void sf_snn_state_free(sf_snn_state *st) {
  if (!st) return;
  for (int l = 0; l < SF_SNN_MAX_LAYERS; ++l) {
    free(st->u[l]);
    free(st->s[l]);
  }
  free(st->cur);
  free(st);
}

/* The start state of n neurons: U = 0, S marked for the next step to read
 * as S_{-1} = H(-theta) (sf_lif_state_spike). */
static void start_state(float *u, float *s, long n) {
  memset(u, 0, sizeof(float) * n);
  for (long i = 0; i < n; ++i) s[i] = SF_LIF_S_START;
}

void sf_snn_state_reset(sf_snn_state *st, int p, int b) {
  for (int l = 0; l < st->nlayers; ++l) {
    long o = ((long)p * st->B + b) * st->hidden[l];
    start_state(st->u[l] + o, st->s[l] + o, st->hidden[l]);
  }
}

void sf_snn_state_reset_all(sf_snn_state *st) {
  for (int l = 0; l < st->nlayers; ++l) start_state(st->u[l], st->s[l], (long)st->P * st->B * st->hidden[l]);
}

int sf_snn_step(sf_snn *net, sf_snn_state *st, const float *x, float *y) {
  const sf_snn_config *c = &net->cfg;
  if (st->P != net->P || st->nlayers != c->nlayers) return -1;
  for (int l = 0; l < c->nlayers; ++l)
    if (st->hidden[l] != c->hidden[l]) return -1;
  const int P = net->P, B = st->B, L = c->nlayers, H = max_hidden(c), O = c->out;
  prepare(net);
  long macs = 0;
  for (int l = 0; l <= L; ++l) macs += (long)layer_in(c, l) * layer_out(c, l);
  /* Rows are independent within a step: each block of rows goes through
   * every layer in one task, so a step is one parallel region (a few
   * hundred envs per call leave little work to share per region).
   * sf_linear_rows gives a row the same bits whatever block it is in. */
  const long nblk = (B + ROW_BLOCK - 1) / ROW_BLOCK;
#pragma omp parallel for schedule(dynamic, 1) if ((long)P * B * macs > PAR_MIN_WORK)
  for (long t = 0; t < P * nblk; ++t) {
    const int p = (int)(t / nblk);
    const long r0 = t % nblk * ROW_BLOCK, nr = B - r0 < ROW_BLOCK ? B - r0 : ROW_BLOCK;
    const float *in = x + ((long)p * B + r0) * c->in;
    for (int l = 0; l <= L; ++l) {
      const int K = layer_in(c, l), N = layer_out(c, l);
      /* the block's own H * nr floats of cur, whatever the layer's width */
      float *out = l < L ? st->cur + ((long)p * B + r0) * H : y + ((long)p * B + r0) * O;
      sf_linear_rows(nr, K, N, in, net->wt + (long)p * net->wt_size + net->wt_off[l], param(net, net->fc_b[l], p),
                     out);
      if (l == L) break;
      const long o = (long)p * B * N + r0 * N;
      sf_lif_step_rows(c->mode, net->slope[p], nr, N, beta_c(net, l, p), param(net, net->lif_theta[l], p), out,
                       st->u[l] + o, st->s[l] + o);
      in = st->s[l] + o;
    }
    if (c->tanh_out)
      for (long i = 0; i < nr * O; ++i) y[((long)p * B + r0) * O + i] = sf_tanh(y[((long)p * B + r0) * O + i]);
  }
  return 0;
}
