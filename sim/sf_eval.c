#include "sim/sf_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sf_score.h"
#include "sim/sf_trajectory.h"

int sf_traj_pass_steps(const sf_env_model *m) {
  /* The small margin keeps an exact multiple of dt from rounding up a step. */
  return (int)ceilf(sf_traj_duration(&m->task) / m->quad.dt - 1e-3f);
}

/* Episodes are flown in rounds of o->envs environments; the scorer's sums
 * add them in episode order, so the figures do not depend on o->envs. */
int sf_eval_run(const sf_env_model *m, sf_policy_fn policy, void *ctx, const sf_eval_opts *o, sf_eval_result *r) {
  memset(r, 0, sizeof *r);
  const int steps = m->task.time_limit;
  const sf_score_spec spec = sf_score_spec_of(m);
  long envs = o->envs < o->episodes ? o->envs : o->episodes;
  uint64_t seed = o->seed;
  sf_env_data *d = sf_env_data_new(1, (int)envs, &seed);
  float *obs = malloc(sizeof(float) * SF_OBS_DIM * envs);
  float *act = malloc(sizeof(float) * SF_ACT_DIM * envs);
  float *rew = malloc(sizeof(float) * envs);
  uint8_t *term = malloc(envs), *trunc = malloc(envs);
  sf_score_episode *acc = malloc(sizeof *acc * envs);
  int rc = 0;
  if (!d || !obs || !act || !rew || !term || !trunc || !acc) {
    rc = -1;
    goto out;
  }
  d->progress[0] = o->progress;

  sf_score_sums sum;
  memset(&sum, 0, sizeof sum);
  while (sum.episodes < o->episodes) {
    const long flown = sum.episodes;
    long active = o->episodes - flown < envs ? o->episodes - flown : envs;
    sf_env_reset_all(m, d);
    if (o->breakdown && sf_breakdown_starts(o->breakdown, m, d, 0, active) != 0) {
      rc = -1;
      goto out;
    }
    memset(acc, 0, sizeof *acc * envs);
    long running = active;
    for (int k = 0; k < steps && running > 0; ++k) {
      sf_env_observe(m, d, obs);
      policy(ctx, m, d, obs, act);
      sf_env_step(m, d, act, rew, term, trunc);
      for (long i = 0; i < active; ++i) {
        sf_quad_state s;
        float tp[3], tv[3];
        if (!sf_score_step(&acc[i], &spec, m, d, i, k, act + i * SF_ACT_DIM, rew[i], term[i], trunc[i], &s, tp, tv))
          continue;
        if (o->trace && i < o->trace_envs)
          o->trace(o->trace_user, flown + i, i, k + 1, &s, tp, tv, act + i * SF_ACT_DIM, rew[i]);
        running -= acc[i].done;
      }
    }
    sf_score_add(&sum, acc, active, 0);
    if (o->breakdown) sf_breakdown_ends(o->breakdown, acc, active);
  }
  sf_eval_stats st;
  sf_score_stats(&sum, &st);
  r->episodes = sum.episodes;
  r->survived = sum.survived;
  r->mean_return = st.ret_current;
  r->mean_length = st.mean_len;
  r->hover_error = st.hover_err;
  r->tracking_error = st.track_err;
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
