/* `spikefly train-guide`: TD3 on the privileged ANN guide until it survives
 * the warm-up period. */
#include "core/sf_defs.h"
#include "cli/sf_train_loop.h"

static const sf_flag guide_flags[] = {
    {"epochs", "train.epochs", NULL, "N", "most epochs to train (stops earlier at the goal)"},
    {"envs", "train.envs", NULL, "N", "environments stepped in parallel"},
    {"seed", "seed", NULL, "S", "random seed"},
    {"out", "train.out", NULL, "DIR", "run directory (default runs/guide); the guide is DIR/guide.safetensors"},
    {"overwrite", "train.overwrite", "true", NULL, "replace a run already in the run directory"},
    {"goal", "train.survive_goal", NULL, "F", "stop when this fraction of evaluation episodes survives (0.95)"},
    {"device", "device", NULL, "DEV", "cpu | cuda | auto"},
    {"resume", "train.resume", NULL, "RUN_DIR", "continue an interrupted run from its last checkpoint"},
    {"print-plan", "train.print_plan", "true", NULL, "print each epoch's plan (teacher or online, weights)"},
};

static const sf_cmd_spec guide_spec = {
    "train-guide", NULL,
    "train the privileged guide policy (146 -> 64 -> 64 -> 4, tanh) with TD3 until it survives the warm-up",
    guide_flags, (int)SF_ARRAY_LEN(guide_flags), 0, 0,
    "The guide sees the noise-free state and the last 32 actions (146 values). It\n"
    "is trained with TD3 on single transitions. For its first\n"
    "train.teacher_epochs (10) epochs the reference controller flies and the guide\n"
    "imitates it while the critic learns; then the guide flies, and TD3 keeps a BC\n"
    "term (weight 1.0 decaying 0.95 per epoch) towards the reference controller's\n"
    "action in every state the guide reached (train.bc_target = guide with\n"
    "train.guide = pid: the expert labels the states the learner visits). Every\n"
    "train.eval_every epochs it flies train.eval_episodes (100) episodes from the\n"
    "reset distribution; the best guide so far is kept in guide.safetensors, and\n"
    "training stops once train.survive_goal (95%) of them last\n"
    "train.survive_steps (50) steps. Any train.* key of `spikefly train` applies."};

int sf_cmd_train_guide(int argc, char **argv) { return sf_train_main(&guide_spec, SF_TRAIN_GUIDE, argc, argv); }
