// Replay buffer: episodes stored whole, sequences never cross an episode
// boundary, the warm-up is respected, eviction is by whole episodes.
#include <gtest/gtest.h>

#include <map>
#include <vector>

extern "C" {
#include "rl/sf_replay.h"
}

namespace {

const int OD = 3, PD = 2, AD = 1;

// Episode `id` of length len: obs row t = (id, t, agent), priv (id, t), act t;
// with `labelled`, the guide's label of row t is -act t (else none is given).
void add(sf_replay *rb, int p, int id, int len, bool terminated, bool labelled = false) {
  std::vector<float> obs((len + 1) * OD), priv((len + 1) * PD), act(len * AD), expert(len * AD), rew(len);
  std::vector<uint8_t> fl(len, 0);
  for (int t = 0; t <= len; ++t) {
    obs[t * OD + 0] = id;
    obs[t * OD + 1] = t;
    obs[t * OD + 2] = p;
    priv[t * PD + 0] = id;
    priv[t * PD + 1] = t;
    if (t < len) {
      act[t] = 1000 * id + t;
      expert[t] = -act[t];
      rew[t] = t;
      fl[t] = t < 10 ? SF_ROW_GUIDE : 0;
    }
  }
  fl[len - 1] |= terminated ? SF_ROW_TERMINATED : SF_ROW_TRUNCATED;
  ASSERT_EQ(sf_replay_add_episode(rb, p, len, obs.data(), priv.data(), act.data(), labelled ? expert.data() : nullptr,
                                  rew.data(), fl.data()),
            0);
}

TEST(Replay, SequencesStayInsideOneEpisodeAndRespectWarmup) {
  const int T = 20, B = 64, stride = 10, warmup = 8;
  sf_replay *rb = sf_replay_new(2, 1000, OD, PD, AD);
  std::map<int, int> len_of;
  int lens[] = {5, 9, 12, 30, 47, 100, 3, 64};
  for (int i = 0; i < 8; ++i) {
    add(rb, 1, i, lens[i], i % 2 == 0);
    len_of[i] = lens[i];
  }
  sf_seq_batch *b = sf_seq_batch_new(T, B, OD, PD, AD);
  for (uint32_t draw = 0; draw < 50; ++draw) {
    ASSERT_EQ(sf_replay_sample(rb, 1, stride, warmup, 7, draw, b), 0);
    for (int j = 0; j < B; ++j) {
      int id = (int)b->obs[j * OD + 0];
      int off = (int)b->obs[j * OD + 1];
      int len = len_of[id];
      EXPECT_EQ(b->obs[j * OD + 2], 1.0f);  // agent 1's rows
      EXPECT_EQ(off % stride, 0);
      EXPECT_LT(off + warmup, len) << "window without a step after the warm-up";
      for (int t = 0; t < T; ++t) {
        const float *o = b->obs + ((size_t)t * B + j) * OD;
        EXPECT_EQ((int)o[0], id) << "crossed an episode boundary";
        bool real = off + t < len;
        EXPECT_EQ(b->mask[t * B + j], real ? 1.0f : 0.0f);
        if (real) {
          EXPECT_EQ((int)o[1], off + t);
          EXPECT_EQ(b->act[t * B + j], 1000.0f * id + off + t);
          EXPECT_EQ(b->guide[t * B + j], off + t < 10 ? 1.0f : 0.0f);
          EXPECT_EQ(b->done[t * B + j], (off + t == len - 1 && id % 2 == 0) ? 1.0f : 0.0f);
          // next observation row
          EXPECT_EQ((int)b->obs[((size_t)(t + 1) * B + j) * OD + 1], off + t + 1);
          EXPECT_EQ((int)b->priv[((size_t)(t + 1) * B + j) * PD + 1], off + t + 1);
        }
      }
    }
  }
  // Episodes 0 (len 5), 6 (len 3) have no valid window; 9 -> 1; 12 -> 1 ...
  long expect = 0;
  for (int l : lens) expect += l > warmup ? (l - warmup - 1) / stride + 1 : 0;
  EXPECT_EQ(sf_replay_windows(rb, 1, stride, warmup), expect);
  EXPECT_EQ(sf_replay_windows(rb, 0, stride, warmup), 0);
  EXPECT_EQ(sf_replay_sample(rb, 0, stride, warmup, 7, 0, b), -1);
  sf_seq_batch_free(b);
  sf_replay_free(rb);
}

TEST(Replay, SamplingIsDeterministicAndCoversEveryWindow) {
  const int T = 5, B = 32;
  sf_replay *rb = sf_replay_new(1, 500, OD, PD, AD);
  add(rb, 0, 0, 40, false);
  add(rb, 0, 1, 25, true);
  sf_seq_batch *a = sf_seq_batch_new(T, B, OD, PD, AD), *c = sf_seq_batch_new(T, B, OD, PD, AD);
  std::map<std::pair<int, int>, int> seen;
  for (uint32_t d = 0; d < 200; ++d) {
    sf_replay_sample(rb, 0, 5, 0, 99, d, a);
    sf_replay_sample(rb, 0, 5, 0, 99, d, c);
    for (int j = 0; j < B; ++j) {
      EXPECT_EQ(a->offset[j], c->offset[j]);
      seen[{(int)a->obs[j * OD], a->offset[j]}]++;
    }
  }
  // 8 windows in the first episode, 5 in the second, each drawn ~ 6400/13.
  ASSERT_EQ(seen.size(), 13u);
  for (auto &kv : seen) EXPECT_NEAR(kv.second, 6400.0 / 13, 120);
  sf_seq_batch_free(a);
  sf_seq_batch_free(c);
  sf_replay_free(rb);
}

TEST(Replay, FullRingEvictsOldestWholeEpisodes) {
  sf_replay *rb = sf_replay_new(1, 100, OD, PD, AD);
  for (int i = 0; i < 10; ++i) add(rb, 0, i, 30, false);  // 31 rows each
  // At most 3 episodes of 31 rows fit in 100 rows.
  EXPECT_LE(rb->transitions[0], 90);
  EXPECT_EQ(rb->added[0], 300);
  sf_seq_batch *b = sf_seq_batch_new(10, 16, OD, PD, AD);
  ASSERT_EQ(sf_replay_sample(rb, 0, 10, 0, 1, 0, b), 0);
  for (int j = 0; j < 16; ++j) {
    int id = (int)b->obs[j * OD];
    EXPECT_GE(id, 7) << "an evicted episode was sampled";
    for (int t = 0; t < 10; ++t) EXPECT_EQ((int)b->obs[((size_t)t * 16 + j) * OD], id);
  }
  std::vector<float> big(202 * OD);
  EXPECT_EQ(sf_replay_add_episode(rb, 0, 200, big.data(), big.data(), big.data(), nullptr, big.data(),
                                  (const uint8_t *)big.data()),
            -1);
  sf_seq_batch_free(b);
  sf_replay_free(rb);
}

TEST(Replay, GuideLabelsTravelWithTheirRows) {
  const int T = 10, B = 32;
  sf_replay *rb = sf_replay_new(1, 500, OD, PD, AD);
  add(rb, 0, 1, 40, true, true);   // labelled: the label is -act
  add(rb, 0, 2, 40, false, false); // unlabelled: the label is the action taken
  sf_seq_batch *b = sf_seq_batch_new(T, B, OD, PD, AD);
  int seen[3] = {0, 0, 0};
  for (uint32_t d = 0; d < 20; ++d) {
    ASSERT_EQ(sf_replay_sample(rb, 0, 5, 0, 3, d, b), 0);
    for (int j = 0; j < B; ++j) {
      int id = (int)b->obs[j * OD];
      seen[id]++;
      for (int t = 0; t < T; ++t) {
        size_t o = (size_t)t * B + j;
        if (b->mask[o] == 0.0f) continue;
        EXPECT_EQ(b->act[o], 1000.0f * id + b->offset[j] + t);
        EXPECT_EQ(b->expert[o], id == 1 ? -b->act[o] : b->act[o]);
      }
    }
  }
  EXPECT_GT(seen[1], 0);
  EXPECT_GT(seen[2], 0);
  sf_seq_batch_free(b);
  sf_replay_free(rb);
}

TEST(Replay, ShortEpisodesTeachTheirFirstStepsOnlyWhenAskedTo) {
  const int T = 20, B = 16, stride = 10, warmup = 8;
  sf_replay *rb = sf_replay_new(1, 500, OD, PD, AD);
  add(rb, 0, 0, 5, true);  // shorter than the warm-up
  add(rb, 0, 1, 8, true);  // as long as the warm-up: no step after it
  EXPECT_EQ(sf_replay_windows(rb, 0, stride, warmup), 0);
  sf_seq_batch *b = sf_seq_batch_new(T, B, OD, PD, AD);
  EXPECT_EQ(sf_replay_sample(rb, 0, stride, warmup, 1, 0, b), -1);
  rb->from_start = 1;
  add(rb, 0, 2, 30, true);  // windows at 0, 10 (and 20 + 8 < 30: 20)
  EXPECT_EQ(sf_replay_windows(rb, 0, stride, warmup), 1 + 1 + 3);
  for (uint32_t d = 0; d < 20; ++d) {
    ASSERT_EQ(sf_replay_sample(rb, 0, stride, warmup, 1, d, b), 0);
    for (int j = 0; j < B; ++j) {
      int id = (int)b->obs[j * OD];
      if (id < 2) {
        EXPECT_EQ(b->offset[j], 0) << "a short episode is learnt from its first step only";
      }
    }
  }
  sf_seq_batch_free(b);
  sf_replay_free(rb);
}

}  // namespace
