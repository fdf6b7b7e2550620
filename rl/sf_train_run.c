#include "rl/sf_train_run.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sf_defs.h"
#include "core/sf_safetensors.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static atomic_int stop_requested;

void sf_train_request_stop(void) { atomic_store(&stop_requested, 1); }
void sf_train_clear_stop(void) { atomic_store(&stop_requested, 0); }
int sf_train_stop_requested(void) { return atomic_load(&stop_requested); }

/* What one epoch left behind, for its records and its line. */
typedef struct {
  const sf_plan *plan;
  sf_update_stats *acc; /* [P] sums over the epoch's updates */
  int updates_done;
  sf_eval_stats *ev;    /* [P] the evaluation, when the plan had one */
  double wall;
} epoch_result;

static void make_record(const sf_trainer *t, const sf_run_opts *o, const epoch_result *e, int p, sf_record *r) {
  sf_record_clear(r);
  const double du = e->updates_done ? e->updates_done : 1;
  r->epoch = t->epoch;
  r->agent = o->agent0 + p;
  r->env_steps = (double)t->ag.env_steps[p];
  r->updates = (double)t->updates_done;
  r->wall_s = e->wall;
  if (e->plan->evaluate) {
    r->return_final = e->ev[p].ret_final;
    r->return_current = e->ev[p].ret_current;
    r->episode_len = e->ev[p].mean_len;
    r->survival = e->ev[p].survival;
    r->survive_warmup = e->ev[p].survive_warmup;
    r->hover_err = e->ev[p].hover_err;
  }
  r->slope = e->plan->agent[p].slope;
  r->bc_weight = e->plan->agent[p].lambda_bc;
  r->horizon = e->plan->agent[p].horizon;
  r->critic_loss = e->acc[p].critic_loss / du;
  r->actor_loss = e->acc[p].actor_loss / du;
  r->mean_q = e->acc[p].mean_q / du;
  snprintf(r->setting, sizeof r->setting, "%s", o->setting[o->agent0 + p]);
}

/* The guide as a checkpoint of its own: agent p's actor tensors. */
static int save_guide(const sf_trainer *t, int p, const char *path, char *err, size_t errlen) {
  sf_st_writer *w = sf_st_writer_new();
  const sf_params *ps = t->actor->params;
  for (int i = 0; i < ps->count; ++i) {
    const sf_param *tp = &ps->t[i];
    int64_t shape[3] = {1, tp->shape[0], tp->shape[1]};
    sf_st_add(w, tp->name, SF_ST_F32, 1 + tp->ndim, shape, sf_param_at(tp, p));
  }
  char desc[128];
  sf_actor_describe(&t->s.actor, desc, sizeof desc);
  sf_st_set_meta(w, "spikefly.actor", desc);
  sf_st_set_meta(w, "spikefly.actor_name", t->s.actor.name);
  sf_st_set_meta(w, "spikefly.agents", "1");
  int rc = sf_st_write(w, path, err, errlen);
  sf_st_writer_free(w);
  return rc;
}

/* Over several processes a checkpoint is written beside the last good one
 * ("NAME.next") and takes its place only when every rank wrote its own
 * (commit_checkpoint): a rank that dies in between leaves all ranks'
 * checkpoints at the same epoch. */
static int save_checkpoint(sf_trainer *t, const sf_run_opts *o, double wall, char *err, size_t errlen) {
  char path[1024], wall_s[32];
  snprintf(path, sizeof path, "%s/%s%s", o->dir, o->checkpoint, o->comm ? ".next" : "");
  snprintf(wall_s, sizeof wall_s, "%.3f", wall);
  const char *meta[] = {"spikefly.config", o->config_text, "spikefly.wall_s", wall_s, NULL};
  return sf_trainer_save(t, path, meta, err, errlen);
}

static int commit_checkpoint(const sf_run_opts *o) {
  char next[1100], path[1024];
  snprintf(path, sizeof path, "%s/%s", o->dir, o->checkpoint);
  snprintf(next, sizeof next, "%s.next", path);
  if (rename(next, path) == 0) return 0;
  fprintf(stderr, "spikefly %s: cannot move %s to %s\n", o->cmd, next, path);
  return -1;
}

/* A line per epoch: on a terminal one live line, rewritten every epoch and
 * kept at each evaluation; elsewhere (logs, CI) a plain line each epoch. */
static void print_line(const sf_trainer *t, const epoch_result *e, double wall0, int epoch0) {
  const int live = isatty(STDERR_FILENO), eval = e->plan->evaluate;
  const double elapsed = e->wall - wall0, done = t->epoch - epoch0;
  const double eta = done > 0 ? elapsed / done * (t->s.epochs - t->epoch) : 0.0;
  const double rate = t->ag.env_steps[0] * (double)t->P / (e->wall > 0 ? e->wall : 1);
  fprintf(stderr, "%sepoch %d/%d  ", live ? "\r\033[K" : "", t->epoch, t->s.epochs);
  if (eval)
    fprintf(stderr, "return %.1f (current %.1f)  len %.0f  ", e->ev[0].ret_final, e->ev[0].ret_current,
            e->ev[0].mean_len);
  else
    fprintf(stderr, "critic loss %.4g  ", e->acc[0].critic_loss / (e->updates_done ? e->updates_done : 1));
  fprintf(stderr, "slope %.2f  bc %.3f  h %d  %.0f env steps/s  ETA %.0f s%s", e->plan->agent[0].slope,
          e->plan->agent[0].lambda_bc, e->plan->agent[0].horizon, rate, eta, eval || !live ? "\n" : "");
}

/* A setting without its seed: the row of the summary its agent belongs to. */
static void group_of(const char *setting, char *out, size_t len) {
  snprintf(out, len, "%s", setting);
  char *seed = strstr(out, " seed=");
  if (!seed) return;
  const char *rest = strchr(seed + 1, ' ');
  memmove(seed, rest ? rest : seed + strlen(seed), strlen(rest ? rest : "") + 1);
}

/* summary.csv and its table: one line per setting, seeds grouped, from
 * each agent's last evaluated record and its first times at 100 and at the
 * target. */
static int write_summary(const sf_run_opts *o, int P, const sf_record *last, const double *first100,
                         const double *first_target) {
  char path[1024];
  snprintf(path, sizeof path, "%s/summary.csv", o->dir);
  FILE *f = fopen(path, "w");
  if (f) fprintf(f, "setting,agents,final_return_mean,final_return_std,survival_mean,epochs_to_100,wall_s_to_target\n");
  char target_col[32];
  snprintf(target_col, sizeof target_col, "s to %.0f", o->target_return);
  printf("%-40s %6s %14s %10s %10s %14s %14s\n", "setting", "agents", "final return", "+-std", "survival",
         "epochs to 100", target_col);
  int *seen = calloc(P, sizeof(int));
  for (int p = 0; p < P; ++p) {
    if (seen[p]) continue;
    char group[192], other[192];
    group_of(last[p].setting, group, sizeof group);
    double sum = 0, sum2 = 0, surv = 0, e100 = 0, et = 0;
    int n = 0, n100 = 0, nt = 0;
    for (int q = p; q < P; ++q) {
      group_of(last[q].setting, other, sizeof other);
      if (strcmp(group, other)) continue;
      seen[q] = 1;
      sum += last[q].return_final;
      sum2 += last[q].return_final * last[q].return_final;
      surv += last[q].survival;
      if (!isnan(first100[q])) e100 += first100[q], ++n100;
      if (!isnan(first_target[q])) et += first_target[q], ++nt;
      ++n;
    }
    double mean = sum / n, sd = n > 1 ? sqrt(fmax(0.0, (sum2 - n * mean * mean) / (n - 1))) : 0.0;
    /* A setting where some seeds never got there: the mean of those that
     * did is no answer, so the row says how many did not. */
    char e100s[48], ets[48];
    if (n100 == n) snprintf(e100s, sizeof e100s, "%.1f", e100 / n);
    else snprintf(e100s, sizeof e100s, "not reached by %d of %d", n - n100, n);
    if (nt == n) snprintf(ets, sizeof ets, "%.1f", et / n);
    else snprintf(ets, sizeof ets, "not reached by %d of %d", n - nt, n);
    printf("%-40s %6d %14.1f %10.1f %10.3f %14s %14s\n", group, n, mean, sd, surv / n, e100s, ets);
    if (f) fprintf(f, "\"%s\",%d,%.4f,%.4f,%.4f,%s,%s\n", group, n, mean, sd, surv / n, e100s, ets);
  }
  free(seen);
  return f && fclose(f) == 0 ? 0 : -1;
}

/* The first evaluation at or above 100 (epochs) and at or above the target
 * (wall seconds) per agent, from a record. */
static void mark_firsts(const sf_record *r, double target, double *first100, double *first_target) {
  const int p = (int)r->agent;
  if (r->return_final >= 100.0 && isnan(first100[p])) first100[p] = r->epoch;
  if (r->return_final >= target && isnan(first_target[p])) first_target[p] = r->wall_s;
}

typedef struct {
  sf_plan plan;
  sf_update_stats *acc, *piece;
  sf_eval_stats *ev;
  sf_record *rec; /* [P] this process's agents' records of the epoch */
  /* the whole population's (on the rank that logs): its records of the
   * epoch, each agent's last evaluated one, its first times at 100 and at
   * the target */
  sf_record *all, *last;
  double *first100, *first_target;
  double best_survive;
  int best_epoch;
  int saved_epoch; /* of the last checkpoint; -1: none yet */
} loop_state;

enum { COLLECT_PIECE = 50, UPDATE_PIECE = 16, QUIET_S = 10 };

/* The plan's collection and updates in pieces, so that a long epoch still
 * says how far it got every ~10 s, and stops soon after a stop request (one
 * process only: several stop together at an epoch's end). The pieces change
 * nothing: the steps and the updates run in the same order either way. 0,
 * -1, or 1 when stopped. */
static int collect_and_update(sf_trainer *t, sf_backend *b, const sf_plan *plan, const sf_run_opts *o, loop_state *L,
                              int *done) {
  sf_plan piece = *plan;
  double said = now_s(), t0 = said;
  const long steps0 = t->ag.env_steps[0];
  int k = 0;
  do {
    if (!o->comm && sf_train_stop_requested()) return 1;
    piece.collect = plan->collect - k < COLLECT_PIECE ? plan->collect - k : COLLECT_PIECE;
    if (b->ops->collect(b, &piece) != 0) return -1;
    k += piece.collect;
    if (now_s() - said > QUIET_S && k < plan->collect) {
      said = now_s();
      fprintf(stderr, "  epoch %d: collected %d of %d steps, %.0f env steps/s\n", plan->epoch + 1, k, plan->collect,
              (double)(t->ag.env_steps[0] - steps0) * t->P / (said - t0));
    }
  } while (k < plan->collect);
  memset(L->acc, 0, sizeof *L->acc * t->P);
  *done = 0;
  while (*done < plan->updates) {
    if (!o->comm && sf_train_stop_requested()) return 1;
    int d = 0;
    piece.updates = plan->updates - *done < UPDATE_PIECE ? plan->updates - *done : UPDATE_PIECE;
    if (b->ops->update(b, &piece, L->piece, &d) != 0) return -1;
    for (int p = 0; p < t->P; ++p) {
      L->acc[p].critic_loss += L->piece[p].critic_loss;
      L->acc[p].actor_loss += L->piece[p].actor_loss;
      L->acc[p].mean_q += L->piece[p].mean_q;
    }
    *done += d;
    if (d < piece.updates) break; /* no full sequence yet */
    if (now_s() - said > QUIET_S && *done < plan->updates) {
      said = now_s();
      fprintf(stderr, "  epoch %d: %d of %d updates\n", plan->epoch + 1, *done, plan->updates);
    }
  }
  return 0;
}

/* One epoch. Returns SF_EXIT_OK, SF_EXIT_FAIL, or -1 when the run stops
 * early having succeeded (a guide that survives). */
static int run_epoch(sf_trainer *t, sf_backend *b, const sf_run_opts *o, loop_state *L, double t0, double wall0,
                     int epoch0) {
  char err[1024], bad[160];
  const int P = t->P;
  sf_plan *plan = &L->plan;
  sf_plan_make(t, t->epoch, plan);
  if (o->print_plans) sf_plan_print(plan, stderr);
  epoch_result e = {plan, L->acc, 0, L->ev, 0};
  const int cu = collect_and_update(t, b, plan, o, L, &e.updates_done);
  if (cu > 0) return SF_EXIT_INTERRUPTED;
  if (cu != 0) {
    fprintf(stderr, "spikefly %s: %s failed\n", o->cmd, e.updates_done ? "an update" : "collection or an update");
    return SF_EXIT_FAIL;
  }
  t->epoch = plan->epoch + 1;
  /* Guard: a diverged network stops the run before it is saved over the last good checkpoint. */
  for (int p = 0; p < P; ++p)
    if (!isfinite(L->acc[p].critic_loss) || !isfinite(L->acc[p].actor_loss)) {
      fprintf(stderr, "spikefly %s: agent %d diverged at epoch %d (critic loss %g, actor loss %g); the last good "
                      "checkpoint stays\n", o->cmd, p, t->epoch, L->acc[p].critic_loss, L->acc[p].actor_loss);
      return SF_EXIT_FAIL;
    }
  if (b->ops->pull(b, plan->evaluate, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly %s: %s\n", o->cmd, err);
    return SF_EXIT_FAIL;
  }
  if (sf_trainer_check_finite(t, bad, sizeof bad)) {
    fprintf(stderr, "spikefly %s: parameters of %s became non-finite at epoch %d; the last good checkpoint stays\n",
            o->cmd, bad, t->epoch);
    return SF_EXIT_FAIL;
  }
  if (plan->evaluate) {
    if (b->ops->evaluate(b, plan, L->ev) != 0) return SF_EXIT_FAIL;
    sf_trainer_feed_schedules(t, L->ev);
    if (save_checkpoint(t, o, now_s() - t0, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly %s: %s\n", o->cmd, err);
      return SF_EXIT_FAIL;
    }
    L->saved_epoch = t->epoch;
  }
  e.wall = now_s() - t0;
  int all_survive = plan->evaluate;
  for (int p = 0; p < P; ++p) {
    make_record(t, o, &e, p, &L->rec[p]);
    if (!plan->evaluate || L->ev[p].survive_warmup < o->survive_goal) all_survive = 0;
  }
  print_line(t, &e, wall0, epoch0);
  /* The guide kept is the best one evaluated: TD3 may still lose ground. */
  if (o->guide && plan->evaluate && L->ev[0].survive_warmup > L->best_survive) {
    L->best_survive = L->ev[0].survive_warmup;
    L->best_epoch = t->epoch;
    char path[1024];
    snprintf(path, sizeof path, "%s/guide.safetensors", o->dir);
    if (save_guide(t, 0, path, err, sizeof err) != 0) {
      fprintf(stderr, "spikefly %s: %s\n", o->cmd, err);
      return SF_EXIT_FAIL;
    }
  }
  if (o->guide && all_survive) {
    fprintf(stderr, "spikefly %s: every agent survives %d steps in %.0f%% or more of %d episodes\n", o->cmd,
            t->s.survive_steps, o->survive_goal * 100, t->s.eval_episodes);
    return -1;
  }
  return SF_EXIT_OK;
}

/* The population's records of the epoch on the rank that logs: gathered
 * from every rank, or this process's own. 0 or -1. */
static int gather(const sf_run_opts *o, const loop_state *L, int P) {
  if (o->comm) return o->comm->gather(o->comm, L->rec, P, L->all);
  memcpy(L->all, L->rec, sizeof *L->rec * P);
  return 0;
}

/* The rank that logs takes the population's records of an epoch. */
static void take_records(const sf_run_opts *o, loop_state *L, const sf_record *r, int n) {
  for (int i = 0; i < n; ++i) {
    const int p = (int)r[i].agent;
    if (p < 0 || p >= o->agents) continue;
    mark_firsts(&r[i], o->target_return, L->first100, L->first_target);
    if (!isnan(r[i].return_final)) L->last[p] = r[i];
  }
}

int sf_train_run(sf_trainer *t, sf_backend *b, const sf_run_opts *o, const sf_record *kept, int nkept,
                 double wall_before) {
  const int P = t->P, logs = !o->comm || o->comm->rank == 0;
  const double t0 = now_s() - wall_before; /* a resumed run's clock continues */
  char err[1024];
  sf_record_log *log = logs ? sf_record_open(o->dir, kept, nkept, err, sizeof err) : NULL;
  int rc = logs && !log ? SF_EXIT_FAIL : SF_EXIT_OK;
  if (rc) fprintf(stderr, "spikefly %s: %s\n", o->cmd, err);
  if (o->comm) rc = o->comm->agree(o->comm, rc);
  if (rc) return rc;
  loop_state L = {.best_survive = -1.0};
  rc = sf_plan_init(&L.plan, P) ? SF_EXIT_FAIL : SF_EXIT_OK;
  L.acc = calloc(P, sizeof *L.acc);
  L.piece = calloc(P, sizeof *L.piece);
  L.ev = calloc(P, sizeof *L.ev);
  L.rec = calloc(P, sizeof *L.rec);
  L.all = calloc(o->agents, sizeof *L.all);
  L.last = calloc(o->agents, sizeof *L.last);
  L.first100 = malloc(sizeof(double) * o->agents);
  L.first_target = malloc(sizeof(double) * o->agents);
  for (int p = 0; p < o->agents; ++p) {
    L.first100[p] = L.first_target[p] = NAN;
    sf_record_clear(&L.last[p]);
  }
  /* Rows kept from before an interruption still count for the summary. */
  take_records(o, &L, kept, nkept);
  const int epoch0 = t->epoch;
  L.saved_epoch = epoch0 > 0 ? epoch0 : -1; /* a resumed run starts from its checkpoint */
  while (rc == SF_EXIT_OK && t->epoch < t->s.epochs) {
    rc = run_epoch(t, b, o, &L, t0, wall_before, epoch0);
    if (rc == SF_EXIT_INTERRUPTED) break; /* mid-epoch, one process: nothing of this epoch is kept */
    /* One rank that failed stops them all (they would wait for it); the
     * checkpoints every rank wrote take their places together. */
    if (o->comm) {
      rc = o->comm->agree(o->comm, rc);
      if (rc == SF_EXIT_OK && L.plan.evaluate) rc = o->comm->agree(o->comm, commit_checkpoint(o) ? SF_EXIT_FAIL : 0);
    }
    if (rc == SF_EXIT_FAIL || gather(o, &L, P) != 0) {
      rc = SF_EXIT_FAIL;
      break;
    }
    if (logs) {
      take_records(o, &L, L.all, o->agents);
      for (int p = 0; p < o->agents && rc != SF_EXIT_FAIL; ++p)
        if (sf_record_write(log, &L.all[p]) != 0) {
          fprintf(stderr, "spikefly %s: cannot write the records of epoch %d\n", o->cmd, t->epoch);
          rc = SF_EXIT_FAIL;
        }
    }
    if (rc != SF_EXIT_OK) break; /* failed, or stopped early and done */
    /* A stop request at the epoch's end: every process sees the same answer. */
    int stop = sf_train_stop_requested();
    if (o->comm) stop = o->comm->agree(o->comm, stop);
    if (stop) rc = SF_EXIT_INTERRUPTED;
  }
  if (rc == SF_EXIT_INTERRUPTED && logs) {
    if (L.saved_epoch > 0)
      fprintf(stderr, "spikefly %s: stopped on request after %d epochs; the checkpoint of epoch %d stays: `spikefly "
              "train --resume %s` continues from it\n", o->cmd, t->epoch, L.saved_epoch, o->dir);
    else
      fprintf(stderr, "spikefly %s: stopped on request after %d epochs, before the first checkpoint: nothing to "
              "resume from in %s\n", o->cmd, t->epoch, o->dir);
  }
  if (rc < 0) rc = SF_EXIT_OK;
  if (log && sf_record_close(log, err, sizeof err) != 0) {
    fprintf(stderr, "spikefly %s: %s\n", o->cmd, err);
    rc = SF_EXIT_FAIL;
  }
  if (rc == SF_EXIT_OK && logs) {
    write_summary(o, o->agents, L.last, L.first100, L.first_target);
    if (o->guide)
      printf("guide written to %s/guide.safetensors: the best evaluation, epoch %d, survives %d steps in %.0f%% of %d "
             "episodes\n", o->dir, L.best_epoch, t->s.survive_steps, L.best_survive * 100, t->s.eval_episodes);
    printf("run directory %s: config.ini, progress.csv, summary.csv, %s, TensorBoard events; %.1f s\n", o->dir,
           o->checkpoint, now_s() - t0);
  }
  sf_plan_free(&L.plan);
  free(L.acc), free(L.piece), free(L.ev), free(L.rec), free(L.all), free(L.last);
  free(L.first100), free(L.first_target);
  return rc;
}
