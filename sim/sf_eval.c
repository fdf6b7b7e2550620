#include "sim/sf_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  double ret, err_hold, err_track;
  long n_hold, n_track;
  int done, survived, length;
} episode_acc;

int sf_eval_run(const sf_env_model *m, sf_policy_fn policy, void *ctx, const sf_eval_opts *o, sf_eval_result *r) {
  memset(r, 0, sizeof *r);
  const float dt = m->quad.dt;
  const int steps = m->task.time_limit;
  const int hold_from = steps - (int)lroundf(1.0f / dt); /* the last 1 s */
  const int track_from = (int)lroundf(1.0f / dt);        /* after the first 1 s */
  long envs = o->envs < o->episodes ? o->envs : o->episodes;
  uint64_t seed = o->seed;
  sf_env_data *d = sf_env_data_new(1, (int)envs, &seed);
  float *obs = malloc(sizeof(float) * SF_OBS_DIM * envs);
  float *act = malloc(sizeof(float) * SF_ACT_DIM * envs);
  float *rew = malloc(sizeof(float) * envs);
  uint8_t *term = malloc(envs), *trunc = malloc(envs);
  episode_acc *acc = malloc(sizeof *acc * envs);
  int rc = 0;
  if (!d || !obs || !act || !rew || !term || !trunc || !acc) {
    rc = -1;
    goto out;
  }
  d->progress[0] = o->progress;

  double sum_ret = 0, sum_hold = 0, sum_track = 0, sum_len = 0;
  long flown = 0, survived = 0;
  while (flown < o->episodes) {
    long active = o->episodes - flown < envs ? o->episodes - flown : envs;
    sf_env_reset_all(m, d);
    memset(acc, 0, sizeof *acc * envs);
    long running = active;
    for (int k = 0; k < steps && running > 0; ++k) {
      sf_env_observe(m, d, obs);
      policy(ctx, m, d, obs, act);
      sf_env_step(m, d, act, rew, term, trunc);
      for (long i = 0; i < active; ++i) {
        episode_acc *e = &acc[i];
        if (e->done) continue;
        e->ret += rew[i];
        e->length = k + 1;
        sf_quad_state s;
        float tp[3], tv[3], ta[3];
        sf_env_get_state(d, i, &s);
        sf_env_get_target(m, d, i, tp, tv, ta);
        double err = 0;
        for (int c = 0; c < 3; ++c) err += (double)(s.p[c] - tp[c]) * (s.p[c] - tp[c]);
        err = sqrt(err);
        if (k + 1 > hold_from) e->err_hold += err, e->n_hold++;
        if (k + 1 > track_from) e->err_track += err, e->n_track++;
        if (o->trace && i < o->trace_envs) o->trace(o->trace_user, flown + i, i, k + 1, &s, tp, tv, act + i * 4, rew[i]);
        if (term[i] || trunc[i]) {
          e->done = 1;
          e->survived = !term[i];
          --running;
        }
      }
    }
    for (long i = 0; i < active; ++i) {
      sum_ret += acc[i].ret;
      sum_len += acc[i].length;
      if (acc[i].survived) {
        ++survived;
        sum_hold += acc[i].n_hold ? acc[i].err_hold / acc[i].n_hold : 0.0;
        sum_track += acc[i].n_track ? acc[i].err_track / acc[i].n_track : 0.0;
      }
    }
    flown += active;
  }
  r->episodes = flown;
  r->survived = survived;
  r->mean_return = sum_ret / flown;
  r->mean_length = sum_len / flown;
  r->hover_error = survived ? sum_hold / survived : NAN;
  r->tracking_error = survived ? sum_track / survived : NAN;
out:
  sf_env_data_free(d);
  free(obs), free(act), free(rew), free(term), free(trunc), free(acc);
  return rc;
}

const char sf_flight_csv_header[] =
    "episode,env,step,t,px,py,pz,qw,qx,qy,qz,vx,vy,vz,wx,wy,wz,m0,m1,m2,m3,"
    "tx,ty,tz,tvx,tvy,tvz,a0,a1,a2,a3,reward\n";

void sf_flight_csv_row(FILE *f, long episode, long env, int step, double dt, const sf_quad_state *s,
                       const float tp[3], const float tv[3], const float a[4], float reward) {
  fprintf(f, "%ld,%ld,%d,%.4f", episode, env, step, step * dt);
  for (int c = 0; c < 3; ++c) fprintf(f, ",%.7g", s->p[c]);
  for (int c = 0; c < 4; ++c) fprintf(f, ",%.7g", s->q[c]);
  for (int c = 0; c < 3; ++c) fprintf(f, ",%.7g", s->v[c]);
  for (int c = 0; c < 3; ++c) fprintf(f, ",%.7g", s->w[c]);
  for (int c = 0; c < 4; ++c) fprintf(f, ",%.7g", s->u[c]);
  for (int c = 0; c < 3; ++c) fprintf(f, ",%.7g", tp[c]);
  for (int c = 0; c < 3; ++c) fprintf(f, ",%.7g", tv[c]);
  for (int c = 0; c < 4; ++c) fprintf(f, ",%.7g", a[c]);
  fprintf(f, ",%.7g\n", reward);
}
