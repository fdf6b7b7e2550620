"""The peers' side of bench/peers/: the workloads of spikefly's benchmarks
written with the Python tools a researcher would otherwise use (pip l2f's
vector environment, snnTorch, SpikingJelly, PyTorch), same shapes and
semantics. One workload per call; it prints one line of JSON with its rate.

  python peers.py sim                       l2f vector env, 4096 envs
  python peers.py loop N                    l2f + snnTorch streaming step
  python peers.py snn B {snntorch|spikingjelly}   forward + BPTT, T = 100
  python peers.py update B T                one TD3BC+JSRL update

The thread count comes from OMP_NUM_THREADS (torch.set_num_threads too).
README.md beside this file says what each workload includes."""
import json
import os
import sys
import time

import numpy as np

THREADS = int(os.environ.get("OMP_NUM_THREADS", "1"))
OBS, PRIV, ACT, H1, H2 = 18, 146, 4, 256, 128
T_SEQ, WARMUP = 100, 50


def report(**kw):
    print(json.dumps(kw), flush=True)


def median_time(fn, reps, warm=1):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


# ---- networks ---------------------------------------------------------------

def torch_setup():
    import torch
    torch.set_num_threads(THREADS)
    torch.manual_seed(1)
    return torch


class FastSigmoidSpike:
    """Heaviside forward, fast-sigmoid surrogate 1 / (1 + k|x|)^2 backward:
    snnTorch's surrogate.fast_sigmoid, written once for SpikingJelly."""

    @staticmethod
    def make(torch, k):
        class Fn(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return (x > 0).to(x.dtype)

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g / (1 + k * x.abs()) ** 2

        return Fn.apply


def snntorch_actor(torch, k=2.0):
    """18 -> Linear -> Leaky(256) -> Linear -> Leaky(128) -> Linear(4) -> tanh:
    snnTorch's Leaky with subtractive delayed reset (detached), learnable
    per-neuron beta and threshold (uniform [0, 1) as the paper's code draws
    them), fast-sigmoid surrogate."""
    import snntorch as snn
    from snntorch import surrogate
    nn = torch.nn

    class Actor(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(OBS, H1), nn.Linear(H1, H2), nn.Linear(H2, ACT)
            sg = surrogate.fast_sigmoid(slope=k)
            self.lif1 = snn.Leaky(beta=torch.rand(H1), threshold=torch.rand(H1), learn_beta=True,
                                  learn_threshold=True, spike_grad=sg, reset_mechanism="subtract")
            self.lif2 = snn.Leaky(beta=torch.rand(H2), threshold=torch.rand(H2), learn_beta=True,
                                  learn_threshold=True, spike_grad=sg, reset_mechanism="subtract")

        @staticmethod
        def _lif_seq(lif, cur):
            """A LIF layer over a whole sequence [T][B][N] (layer by layer:
            the linear map before it ran on all T * B rows at once)."""
            mem = torch.zeros_like(cur[0])
            out = []
            for t in range(cur.shape[0]):
                spk, mem = lif(cur[t], mem)
                out.append(spk)
            return torch.stack(out)

        def forward(self, x):  # x [T][B][18] from zero state
            s1 = self._lif_seq(self.lif1, self.fc1(x))
            s2 = self._lif_seq(self.lif2, self.fc2(s1))
            return torch.tanh(self.fc3(s2))

        def step(self, x, state):  # streaming: x [B][18], state [mem1, mem2]
            spk1, state[0] = self.lif1(self.fc1(x), state[0])
            spk2, state[1] = self.lif2(self.fc2(spk1), state[1])
            return torch.tanh(self.fc3(spk2))

    return Actor()


def spikingjelly_actor(torch, k=2.0):
    """The same actor in SpikingJelly's activation_based API: multi-step
    layers (step_mode 'm') over [T][B][F], a SimpleBaseNode whose charge is
    snnTorch's U_t = clamp(beta) U_{t-1} + I_t - S_{t-1} theta (reset kept
    apart and detached, threshold and beta learnable per neuron)."""
    from spikingjelly.activation_based import functional, layer, neuron
    nn = torch.nn
    spike_fn = FastSigmoidSpike.make(torch, k)

    class Surrogate(nn.Module):
        def forward(self, x):
            return spike_fn(x)

    class LeakyNode(neuron.SimpleBaseNode):
        def __init__(self, n):
            super().__init__(v_threshold=1.0, v_reset=None, surrogate_function=Surrogate(), detach_reset=True,
                             step_mode="m")
            self.beta = nn.Parameter(torch.rand(n))
            self.v_threshold = nn.Parameter(torch.rand(n))
            self.register_memory("r", 0.0)

        def neuronal_charge(self, x):
            self.v = self.beta.clamp(0, 1) * self.v + x - self.r

        def neuronal_reset(self, spike):
            self.r = (spike.detach() if self.detach_reset else spike) * self.v_threshold

    class Actor(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(layer.Linear(OBS, H1, step_mode="m"), LeakyNode(H1),
                                     layer.Linear(H1, H2, step_mode="m"), LeakyNode(H2),
                                     layer.Linear(H2, ACT, step_mode="m"))
            self.functional = functional

        def forward(self, x):
            self.functional.reset_net(self)
            return torch.tanh(self.net(x))

    return Actor()


def critic(torch):
    nn = torch.nn
    return nn.Sequential(nn.Linear(PRIV + ACT, H1), nn.ReLU(), nn.Linear(H1, H2), nn.ReLU(), nn.Linear(H2, 1))


# ---- workloads --------------------------------------------------------------

def bench_snn(B, impl, reps):
    """Forward + BPTT over T = 100 steps of B sequences from zero state;
    dL/dy given (random) on the steps after the 50-step warm-up, gradients of
    every parameter accumulated (no optimiser step)."""
    torch = torch_setup()
    net = snntorch_actor(torch) if impl == "snntorch" else spikingjelly_actor(torch)
    x = torch.rand(T_SEQ, B, OBS) * 3 - 1.5
    dy = torch.rand(T_SEQ, B, ACT) * 2 - 1
    dy[:WARMUP] = 0

    def once():
        net.zero_grad(set_to_none=True)
        y = net(x)
        y.backward(dy)

    s = median_time(once, reps)
    report(workload="snn", impl=impl, B=B, rate=T_SEQ * B / s, unit="sequence-steps/s")


def l2f_env(N):
    import l2f
    vec = getattr(l2f, "vector%d" % N)
    device = l2f.Device()
    rng = vec.VectorRng()
    env = vec.VectorEnvironment()
    params = vec.VectorParameters()
    state = vec.VectorState()
    next_state = vec.VectorState()
    vec.initialize_rng(device, rng, 1)
    vec.initialize_environment(device, env)
    vec.sample_initial_parameters(device, env, params, rng)
    vec.sample_initial_state(device, env, params, state, rng)
    obs = np.zeros((env.N_ENVIRONMENTS, env.OBSERVATION_DIM), dtype=np.float32)
    return l2f, vec, device, rng, env, params, state, next_state, obs


class L2fLoop:
    """The l2f side of one simulator step: vec.step, the reward and the
    termination check (what spikefly's sf_env_step does); `full` adds the
    noisy observation and the auto-reset of the envs that are done
    (terminated, or 500 steps reached)."""

    def __init__(self, N):
        self.N = N
        self.l2f, self.vec, self.device, self.rng, self.env, self.params, self.state, self.next_state, self.obs = \
            l2f_env(N)
        self.rew = np.zeros(N, dtype=np.float32)
        self.term = np.zeros(N, dtype=bool)
        self.ep = np.zeros(N, dtype=np.int64)

    def step(self, act):
        v, d = self.vec, self.device
        v.step(d, self.env, self.params, self.state, act, self.next_state, self.rng)
        v.reward(d, self.env, self.params, self.state, act, self.next_state, self.rew, self.rng)
        self.state.assign(self.next_state)
        v.terminated(d, self.env, self.params, self.state, self.term, self.rng)

    def observe(self):
        self.vec.observe(self.device, self.env, self.params, self.state, self.obs, self.rng)

    def auto_reset(self):
        """Returns the done mask (None when no env is done)."""
        self.ep += 1
        done = self.term | (self.ep >= 500)
        if not done.any():
            return None
        self.vec.sample_initial_state_if_truncated(self.device, self.env, self.params, self.state, done, self.rng)
        self.ep[done] = 0
        return done


def bench_sim(steps, reps):
    """pip l2f's vector env, 4096 envs, uniform random actions pre-drawn for
    64 steps and cycled: `step` as L2fLoop.step, `loop` with the observation
    and the auto-reset."""
    N = 4096
    sim = L2fLoop(N)
    acts = np.random.default_rng(1).uniform(-1, 1, (64, N, ACT)).astype(np.float32)

    def run_step():
        for k in range(steps):
            sim.step(acts[k % 64])

    def run_loop():
        for k in range(steps):
            sim.step(acts[k % 64])
            sim.observe()
            sim.auto_reset()

    s_step = median_time(run_step, reps)
    s_loop = median_time(run_loop, reps)
    report(workload="sim", step=N * steps / s_step, loop=N * steps / s_loop, unit="env steps/s")


def bench_loop(N, steps, reps):
    """Closed loop: observation, snnTorch streaming step (no autograd, state
    carried), env step, auto-reset of the done envs and of their SNN state."""
    torch = torch_setup()
    net = snntorch_actor(torch)
    sim = L2fLoop(N)
    mem = [torch.zeros(N, H1), torch.zeros(N, H2)]

    def run():
        with torch.no_grad():
            for _ in range(steps):
                sim.observe()
                act = net.step(torch.from_numpy(sim.obs[:, :OBS]), mem).numpy()
                sim.step(act)
                done = sim.auto_reset()
                if done is not None:
                    d = torch.from_numpy(done)
                    mem[0][d] = 0
                    mem[1][d] = 0

    s = median_time(run, reps)
    report(workload="loop", N=N, rate=N * steps / s, unit="env steps/s")


def bench_update(B, T, reps):
    """One TD3BC+JSRL update as spikefly's trainer makes it, batch B
    sequences of T steps (+1 for the next state), random data: target actor
    unrolled over T + 1 steps, smoothed next actions, twin target critics,
    TD targets, both critics' masked MSE, backward and Adam; every second
    update also the actor: its forward over T steps, Q1 of its actions
    (critic frozen), lambda_Q = alpha / mean|Q| and the BC term on the steps
    after the warm-up, BPTT, Adam, then Polyak averaging of all targets.
    Reported: transitions (B x T) per second, averaged over both kinds."""
    torch = torch_setup()
    import copy
    actor = snntorch_actor(torch)
    q = [critic(torch), critic(torch)]
    actor_t, q_t = copy.deepcopy(actor), [copy.deepcopy(c) for c in q]
    for m in [actor_t] + q_t:
        for p in m.parameters():
            p.requires_grad_(False)
    opt_a = torch.optim.Adam(actor.parameters(), lr=1e-3)
    opt_q = [torch.optim.Adam(c.parameters(), lr=1e-3) for c in q]
    g = torch.Generator().manual_seed(1)
    obs = torch.randn(T + 1, B, OBS, generator=g)
    priv = torch.randn(T + 1, B, PRIV, generator=g)
    act = torch.rand(T, B, ACT, generator=g) * 2 - 1
    rew = torch.rand(T, B, 1, generator=g)
    done = (torch.rand(T, B, 1, generator=g) < 0.01).float()
    mask = torch.ones(T, B, 1)
    am = mask.clone()
    am[:WARMUP] = 0
    gamma, tau, alpha, lbc = 0.99, 0.01, 2.0, 0.2
    params_t = [p for m in [actor_t] + q_t for p in m.parameters()]
    params_o = [p for m in [actor] + q for p in m.parameters()]
    it = [0]

    def update():
        with torch.no_grad():
            a_next = actor_t(obs)[1:]
            noise = (torch.randn(a_next.shape, generator=g) * 0.2).clamp(-0.5, 0.5)
            a_next = (a_next + noise).clamp(-1, 1)
            xn = torch.cat([priv[1:], a_next], -1)
            y = rew + gamma * (1 - done) * torch.min(q_t[0](xn), q_t[1](xn))
        xc = torch.cat([priv[:T], act], -1)
        for c, o in zip(q, opt_q):
            loss = (mask * (c(xc) - y) ** 2).sum() / mask.sum()
            o.zero_grad(set_to_none=True)
            loss.backward()
            o.step()
        if it[0] % 2 == 0:
            pi = actor(obs[:T])
            for p in q[0].parameters():
                p.requires_grad_(False)
            qv = q[0](torch.cat([priv[:T], pi], -1))
            n = am.sum()
            lam = alpha / ((am * qv).abs().sum() / n).detach()
            loss = -lam * (am * qv).sum() / n + lbc * (am * (pi - act) ** 2).sum() / n
            opt_a.zero_grad(set_to_none=True)
            loss.backward()
            opt_a.step()
            for p in q[0].parameters():
                p.requires_grad_(True)
            with torch.no_grad():
                torch._foreach_lerp_(params_t, params_o, tau)
        it[0] += 1

    def two():
        update()
        update()

    s = median_time(two, reps) / 2
    report(workload="update", B=B, T=T, rate=B * T / s, unit="transitions/s")


def main(argv):
    reps = int(os.environ.get("PEERS_REPS", "3"))
    w = argv[1] if len(argv) > 1 else ""
    if w == "sim":
        bench_sim(int(os.environ.get("PEERS_SIM_STEPS", "300")), reps)
    elif w == "loop" and len(argv) > 2:
        bench_loop(int(argv[2]), int(os.environ.get("PEERS_LOOP_STEPS", "100")), reps)
    elif w == "snn" and len(argv) > 3:
        bench_snn(int(argv[2]), argv[3], reps)
    elif w == "update" and len(argv) > 3:
        bench_update(int(argv[2]), int(argv[3]), reps)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
