/* The C API of the Python package (sf_pyapi.h) over the library: the
 * batched environment of sim/, the actors of rl/ and the commands of cli/. */
#include "python/csrc/sf_pyapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sf_cli.h"
#include "core/sf_config.h"
#include "core/sf_defs.h"
#include "core/sf_fileio.h"
#include "rl/sf_actor.h"
#include "rl/sf_train_run.h"
#include "sim/sf_env.h"
#include "sim/sf_env_step.h"

_Static_assert((int)SF_PY_OBS_DIM == (int)SF_OBS_DIM && (int)SF_PY_PRIV_DIM == (int)SF_PRIV_DIM &&
                   (int)SF_PY_ACT_DIM == (int)SF_ACT_DIM &&
                   (int)SF_PY_STATE_DIM == (int)SF_QX_N,
               "the Python API's dimensions are the library's");

const char *sf_py_version(void) { return SF_VERSION; }

struct sf_py_env {
  sf_env_model model;
  sf_env_data *d;
  int N;
};

/* "k=v" lines into a config, the model from it; every key must be used. */
static int model_from_keys(const char *keys, sf_env_model *model, char *err, size_t errlen) {
  sf_config *cfg = sf_cfg_new();
  char *copy = keys ? strdup(keys) : NULL;
  int rc = cfg && (!keys || copy) ? 0 : -1;
  if (rc) sf_set_err(err, errlen, "out of memory");
  for (char *save = NULL, *line = copy ? strtok_r(copy, "\n", &save) : NULL; !rc && line;
       line = strtok_r(NULL, "\n", &save))
    if (sf_cfg_set_override(cfg, line) != 0) rc = -1;
  if (!rc && (sf_env_model_from_config(cfg, model) != 0 || sf_cfg_check_unused(cfg) != 0)) rc = -1;
  if (rc && cfg && sf_cfg_error(cfg)) sf_set_err(err, errlen, "%s", sf_cfg_error(cfg));
  free(copy);
  sf_cfg_free(cfg);
  return rc;
}

sf_py_env *sf_py_env_new(int num_envs, uint64_t seed, const char *keys, char *err, size_t errlen) {
  if (num_envs <= 0) {
    sf_set_err(err, errlen, "num_envs must be positive, got %d", num_envs);
    return NULL;
  }
  sf_py_env *e = calloc(1, sizeof *e);
  if (!e) {
    sf_set_err(err, errlen, "out of memory");
    return NULL;
  }
  e->N = num_envs;
  if (model_from_keys(keys, &e->model, err, errlen) != 0) {
    free(e);
    return NULL;
  }
  if (!(e->d = sf_env_data_new(1, num_envs, &seed))) {
    sf_set_err(err, errlen, "out of memory for %d environments", num_envs);
    free(e);
    return NULL;
  }
  e->d->progress[0] = 0.0f;
  return e;
}

void sf_py_env_free(sf_py_env *e) {
  if (!e) return;
  sf_env_data_free(e->d);
  free(e);
}

int sf_py_env_time_limit(const sf_py_env *e) { return e->model.task.time_limit; }
double sf_py_env_dt(const sf_py_env *e) { return e->model.quad.dt; }
void sf_py_env_set_progress(sf_py_env *e, float progress) { e->d->progress[0] = progress; }
float sf_py_env_progress(const sf_py_env *e) { return e->d->progress[0]; }

void sf_py_env_seed(sf_py_env *e, uint64_t seed) {
  /* Counters and state back to zero: the same streams as a new environment. */
  sf_env_array a[SF_ENV_NARRAYS];
  const int n = sf_env_data_arrays(e->d, a);
  const float progress = e->d->progress[0];
  for (int k = 0; k < n; ++k) {
    const size_t size = a[k].dtype == SF_DT_U64 ? 8 : 4;
    memset(a[k].ptr, 0, a[k].count * size);
  }
  e->d->seed[0] = seed;
  e->d->progress[0] = progress;
}

static void observe(const sf_py_env *e, float *obs, float *priv) {
  if (obs) sf_env_observe(&e->model, e->d, obs);
  if (priv) sf_env_observe_privileged(&e->model, e->d, priv);
}

void sf_py_env_reset(sf_py_env *e, const uint8_t *mask, float *obs, float *priv) {
  if (mask) sf_env_reset_masked(&e->model, e->d, mask);
  else sf_env_reset_all(&e->model, e->d);
  observe(e, obs, priv);
}

void sf_py_env_step(sf_py_env *e, const float *actions, const uint8_t *reset, float *reward, uint8_t *terminated,
                    uint8_t *truncated, float *obs, float *priv) {
  long any = 0;
  for (long i = 0; reset && i < e->d->n; ++i) any |= reset[i];
  if (!any) {
    sf_env_step(&e->model, e->d, actions, reward, terminated, truncated);
  } else {
    /* Env by env with the same per-env functions as the batched step: the
     * same bits whichever path an env takes. */
#pragma omp parallel for schedule(static) if (e->d->n >= 256)
    for (long i = 0; i < e->d->n; ++i) {
      if (reset[i]) {
        sf_env_reset_one(&e->model, e->d, i);
        if (reward) reward[i] = 0.0f;
        if (terminated) terminated[i] = 0;
        if (truncated) truncated[i] = 0;
      } else {
        sf_env_step_one(&e->model, e->d, i, actions + i * SF_ACT_DIM, reward ? reward + i : NULL,
                        terminated ? terminated + i : NULL, truncated ? truncated + i : NULL);
      }
    }
  }
  observe(e, obs, priv);
}

void sf_py_env_states(const sf_py_env *e, float *out) {
  for (long i = 0; i < e->d->n; ++i) {
    sf_quad_state s;
    sf_env_get_state(e->d, i, &s);
    float *o = out + i * SF_QX_N;
    memcpy(o, s.p, sizeof s.p), memcpy(o + 3, s.q, sizeof s.q), memcpy(o + 7, s.v, sizeof s.v);
    memcpy(o + 10, s.w, sizeof s.w), memcpy(o + 13, s.u, sizeof s.u);
  }
}

struct sf_py_actor {
  sf_actor *a;
  sf_actor_state st;
  int n;    /* envs of the streaming state; 0: none yet */
  float *x; /* [n][in_dim] the actor's input */
};

sf_py_actor *sf_py_actor_load(const char *path, int agent, char *desc, size_t desclen, char *err, size_t errlen) {
  char why[1024] = "";
  sf_py_actor *h = calloc(1, sizeof *h);
  if (!h) {
    sf_set_err(err, errlen, "out of memory");
    return NULL;
  }
  if (!(h->a = sf_actor_load(path, agent, NULL, why, sizeof why))) {
    sf_set_err(err, errlen, "%s", why);
    free(h);
    return NULL;
  }
  if (desc) sf_actor_describe(&h->a->cfg, desc, desclen);
  return h;
}

void sf_py_actor_free(sf_py_actor *h) {
  if (!h) return;
  sf_actor_state_free(&h->st);
  sf_actor_free(h->a);
  free(h->x);
  free(h);
}

int sf_py_actor_step(sf_py_actor *h, int n, const float *obs, const float *priv, const uint8_t *reset, float *actions,
                     char *err, size_t errlen) {
  sf_actor *a = h->a;
  if (n <= 0) {
    sf_set_err(err, errlen, "the number of envs must be positive, got %d", n);
    return -1;
  }
  if (a->cfg.input != SF_INPUT_OBS && !priv) {
    sf_set_err(err, errlen, "this actor reads the privileged observation (input %s): pass priv",
        sf_actor_input_names[a->cfg.input]);
    return -1;
  }
  if (n != h->n) {
    /* A new batch: every env starts an episode. An MLP's streaming rows are
     * bounded by the actor's capacity, which a loaded actor sizes for one. */
    sf_actor_state_free(&h->st);
    free(h->x);
    h->n = 0;
    sf_actor *grown = NULL;
    if (a->cfg.kind == SF_ACTOR_MLP) {
      if (!(grown = sf_actor_new(&a->cfg, 1, n))) goto oom;
      memcpy(grown->params->data, a->params->data, sizeof(float) * a->params->n);
      sf_actor_free(a);
      h->a = a = grown;
    }
    if (!(h->x = malloc(sizeof(float) * a->in_dim * (size_t)n)) || sf_actor_state_init(&h->st, a, n)) goto oom;
    sf_actor_state_reset_all(&h->st);
    h->n = n;
  }
  for (int i = 0; reset && i < n; ++i)
    if (reset[i]) sf_actor_state_reset(&h->st, 0, i);
  sf_actor_make_input(a->cfg.input, n, obs, priv, h->x);
  if (sf_actor_step(a, &h->st, n, h->x, actions) != 0) {
    sf_set_err(err, errlen, "the actor's step failed (out of memory?)");
    return -1;
  }
  return 0;
oom:
  sf_set_err(err, errlen, "out of memory for %d envs", n);
  return -1;
}

int sf_py_command(int argc, char **argv) {
  sf_train_clear_stop();
  int rc = sf_cli_main(argc, argv);
  fflush(stdout);
  fflush(stderr);
  return rc;
}

void sf_py_request_stop(void) { sf_train_request_stop(); }
