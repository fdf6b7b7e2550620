/* `spikefly train`: train SNN controllers (TD3BC+JSRL and the baselines). */
#include "core/sf_defs.h"
#include "cli/sf_train_loop.h"

static const sf_flag train_flags[] = {
    {"algo", "train.algo", NULL, "NAME", "td3bc_jsrl (the method) | td3 (online from scratch) | bc | td3bc (offline)"},
    {"no-bc", "train.bc", "false", NULL, "drop the behaviour-cloning term (ablation)"},
    {"no-jumpstart", "train.jumpstart", "false", NULL, "no guide at episode starts (ablation)"},
    {"schedule", "model.schedule", NULL, "NAME", "surrogate slope schedule: fixed | interval | adaptive"},
    {"slope", "model.slope", NULL, "K", "(initial) surrogate slope k"},
    {"actor", "train.actor", NULL, "KIND", "snn (default) | mlp (ANN baseline)"},
    {"actor-input", "train.actor_input", NULL, "IN", "obs (18) | obs_hist (obs + last 32 actions) | priv (146)"},
    {"guide", "train.guide", NULL, "FILE", "guide checkpoint for the jump start (spikefly train-guide), or pid"},
    {"bc-target", "train.bc_target", NULL, "WHO", "BC towards: buffer (the action taken) | guide (its action in each state)"},
    {"dataset", "train.dataset", NULL, "FILE", "offline dataset for bc/td3bc (spikefly collect)"},
    {"epochs", "train.epochs", NULL, "N", "training epochs"},
    {"envs", "train.envs", NULL, "N", "environments per agent stepped in parallel"},
    {"seed", "seed", NULL, "S", "random seed of the agent"},
    {"out", "train.out", NULL, "DIR", "run directory (default runs/train)"},
    {"overwrite", "train.overwrite", "true", NULL, "replace a run already in the run directory"},
    {"device", "device", NULL, "DEV", "cpu | cuda | auto"},
    {"resume", "train.resume", NULL, "RUN_DIR", "continue an interrupted run from its last checkpoint (keys given "
     "with it, e.g. more epochs, are written to its config.ini)"},
    {"print-plan", "train.print_plan", "true", NULL, "print each epoch's plan (phase, weights, horizon, slopes)"},
};

static const sf_cmd_spec train_spec = {
    "train", NULL, "train spiking controllers: TD3BC+JSRL, its baselines and ablations", train_flags,
    (int)SF_ARRAY_LEN(train_flags), 0, 0,
    "Sweeps: --sweep key=v1,v2,... (repeatable) trains the grid of settings as\n"
    "agents side by side in one process, e.g. --sweep model.slope=1,2,5,10,100\n"
    "--sweep seed=0,1,2, and writes summary.csv (final return mean and spread per\n"
    "setting, epochs until the return first reached 100).\n"
    "Keys (train.*): algo actor actor_input hidden frame_stack substeps envs epochs collect_steps\n"
    "updates batch seq_len warmup stride buffer eval_every eval_episodes\n"
    "survive_steps jumpstart bc bc_target h_start h_end h_epochs policy_delay tau\n"
    "guide learn_from_start dataset out overwrite; per agent: seed actor_lr critic_lr gamma alpha\n"
    "bc_weight bc_decay expl_noise target_noise target_clip; model.schedule\n"
    "model.slope model.slope_max model.slope_interval model.slope_steps\n"
    "model.slope_window model.slope_order model.return_scale; sim.* env.*.\n"
    "BC target: buffer imitates the action stored with each step (the paper's\n"
    "TD3BC: the guide's where it flew, the actor's own noisy action elsewhere);\n"
    "guide imitates the guide's action in every stored state, also those the\n"
    "actor flew into (the privileged guide labels the actor's own states).\n"
    "Frame-stack mode (train.frame_stack = F >= 1, the paper's single-transition\n"
    "setting): the SNN starts from rest at every control step, sees the last F\n"
    "observations side by side for train.substeps SNN steps, and acts on its mean\n"
    "readout; it needs train.warmup >= F - 1 and runs on the CPU.\n"
    "The run directory holds config.ini, progress.csv (a row per epoch and agent),\n"
    "TensorBoard events, checkpoint.safetensors and summary.csv."};

int sf_cmd_train(int argc, char **argv) { return sf_train_main(&train_spec, SF_TRAIN_POLICY, argc, argv); }
