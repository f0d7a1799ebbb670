# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Beyond one process: data-parallel training
#
# Every tutorial so far trained in one process. **Data parallelism** spreads the work over
# $W$ processes (the *world size*), numbered by their **rank** $0, \dots, W-1$. Each
# process holds a full copy of the model and trains on its own shard of the data. After
# `backward` the processes **all-reduce** their gradients: each one ends up with the mean
# of all $W$ gradients, so every copy takes the same step and the copies stay equal.
# PyTorch's `DistributedDataParallel` (DDP) does this for you.
#
# This page turns the lesson's loop into a DDP script, runs it on two processes on the
# machine that built the page (two CPU cores, no GPU), checks that it takes the same
# steps as one process, runs the usual traps, and measures the speed.
#
# ## Why averaging gradients works { #why-averaging-gradients-works }
#
# With `reduction="mean"`, the loss of a batch of $B = Wb$ samples is the mean of $W$
# shards $S_0, \dots, S_{W-1}$ of $b$ samples each, and the gradient of a mean is the
# mean of the gradients:
#
# $$
# \nabla_\theta \frac{1}{Wb}\sum_{i=1}^{Wb} \ell_i
# = \frac{1}{W}\sum_{r=0}^{W-1} \nabla_\theta \Bigl(\frac{1}{b}\sum_{i \in S_r} \ell_i\Bigr).
# $$
#
# The right-hand side is what DDP computes: rank $r$ takes the gradient of its own
# batch, and the all-reduce averages them. So $W$ processes with batches of $b$ take the
# steps of one process with batches of $Wb$. The shards must have equal sizes for this
# to hold, which is why the traps below matter.
#
# ## The script { #the-script }
#
# DDP runs one Python process per rank, so the training code lives in a script that
# every process runs. We work in a scratch folder and write the script there with the
# `%%writefile` cell magic: the cell below *is* the file.

# %%
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from torch.utils.data import DistributedSampler

# A scratch folder for the script and its output, removed when the kernel stops:
scratch = tempfile.TemporaryDirectory(prefix="ddp-")
os.chdir(scratch.name)

# %%
# %%writefile ddp_train.py
"""The lesson's linear regression, trained data parallel (DDP).

Run it with:  torchrun --standalone --nproc-per-node=2 ddp_train.py results.json
torchrun starts the processes and tells each one its rank and the world size
(in environment variables, which init_process_group reads).
"""

import gc
import json
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.distributed.nn  # before init_process_group (see the end of main)
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


class LinearModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


def make_data(n, seed=0):
    """n samples of y = 2x + 1 + noise, the same in every process (same seed)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, generator=generator)
    y = 2 * x + 1 + 0.1 * torch.randn(n, 1, generator=generator)
    return TensorDataset(x, y)


def train(
    dataset, lr=0.1, batch_size=8, epochs=5, reduction="mean", set_epoch=True,
    drop_last=False, hook=None, group=None, log=False,
):
    """The lesson's loop, run by every process of `group` (by default all of them).

    Returns the model and its history: (w, b) after every step, the samples this
    process used in each epoch, and the seconds each epoch took.
    """
    torch.manual_seed(0)  # the same initial weights in every process
    model = DistributedDataParallel(LinearModel(), process_group=group)
    if hook is not None:
        model.register_comm_hook(None, hook)
    criterion = torch.nn.MSELoss(reduction=reduction)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    # This process's shard: every W-th sample of a shuffled order of all of them.
    world_size, rank = dist.get_world_size(group), dist.get_rank(group)
    sampler = DistributedSampler(
        dataset, world_size, rank, seed=0, drop_last=drop_last
    )
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler)
    history = {"steps": [], "orders": [], "seconds": []}
    for epoch in range(epochs):
        if set_epoch:
            sampler.set_epoch(epoch)  # a new shuffle every epoch
        history["orders"].append(list(sampler))
        start = time.perf_counter()
        for x, y in loader:
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()  # and DDP all-reduces the gradients: their mean
            optimizer.step()
            linear = model.module.linear  # the model inside the DDP wrapper
            history["steps"].append([linear.weight.item(), linear.bias.item()])
        history["seconds"].append(time.perf_counter() - start)
        if log and rank == 0:  # one process prints
            w, b = history["steps"][-1]
            print(f"epoch {epoch + 1}: w = {w:.4f}, b = {b:.4f}")
    return model, history


def sum_gradients(state, bucket):
    """A communication hook: all-reduce the gradients as a plain sum."""
    work = dist.all_reduce(bucket.buffer(), async_op=True)
    return work.get_future().then(lambda future: future.value()[0])


def gather(value):
    """The list of every rank's `value`, in every process."""
    values = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    return values


def main():
    dist.init_process_group("gloo")  # gloo runs on CPUs
    rank, world_size = dist.get_rank(), dist.get_world_size()
    dataset = make_data(64)  # the world size divides 64
    model, history = train(dataset, log=True)
    if rank == 0:  # every copy holds the same weights: one process saves them
        torch.save(model.module.state_dict(), "model.pt")

    # This page's experiments, in the same launch (each launch costs seconds).
    results = {"world_size": world_size, "steps": history["steps"]}
    results["orders"] = gather(history["orders"])
    results["sum"] = train(dataset, lr=0.005, reduction="sum")[1]["steps"]
    lr_times_w = 0.005 * world_size
    results["sum_lr_w"] = train(dataset, lr=lr_times_w, reduction="sum")[1]["steps"]
    hooked = train(dataset, lr=0.005, reduction="sum", hook=sum_gradients)[1]
    results["sum_hook"] = hooked["steps"]
    uneven = make_data(63)  # 2 does not divide 63
    for name, run in [
        ("uneven", train(uneven)[1]),
        ("drop_last", train(uneven, drop_last=True)[1]),
        ("no_set_epoch", train(dataset, set_epoch=False)[1]),
    ]:
        results[name] = {"steps": run["steps"], "orders": gather(run["orders"])}
    threads = [os.environ.get("OMP_NUM_THREADS"), torch.get_num_threads()]
    results["threads"] = gather(threads)

    # Seconds per epoch: rank 0 alone (a group of its own), then all ranks.
    big = make_data(2**13, seed=1)
    alone = dist.new_group([0])
    for batch_size in [64, 1024]:
        if rank == 0:
            run = train(big, batch_size=batch_size, epochs=3, group=alone)[1]
            results[f"seconds_{batch_size}_1"] = run["seconds"]
        dist.barrier()
        run = train(big, batch_size=batch_size // world_size, epochs=3)[1]
        results[f"seconds_{batch_size}_{world_size}"] = run["seconds"]

    if rank == 0:
        with open(sys.argv[1], "w") as file:
            json.dump(results, file)
    # Leave together, and leave no process group behind. destroy_process_group frees
    # a group only if nothing else holds it, and every DDP model holds one, as does
    # `alone`; so does torch.distributed.nn, imported by DDP, if imported after
    # init_process_group (its default arguments keep group.WORLD). A group that lives
    # on into interpreter shutdown keeps gloo's threads running, which can abort there.
    del model, alone
    gc.collect()  # DDP models held only in reference cycles
    dist.barrier()  # no process leaves while another still talks to it
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

# %% [markdown]
# Read it from `main` down:
#
# - `init_process_group("gloo")` joins this process to the others. torchrun has put the
#   rank, the world size and the address of a meeting point into environment variables
#   (`RANK`, `WORLD_SIZE`, `MASTER_ADDR`, `MASTER_PORT`); `gloo` is the backend that
#   moves tensors between CPU processes.
# - Every process builds the same 64 samples from the same seed. The
#   `DistributedSampler` gives rank $r$ its shard, and the `DataLoader` cuts the shard
#   into batches of 8, so the two processes together see 16 samples per step.
# - `DistributedDataParallel(model)` copies rank 0's weights to every process when it is
#   created, and hooks the all-reduce into `backward`: when `loss.backward()` returns,
#   `.grad` holds the mean gradient of all ranks. The rest of the loop is the lesson's.
# - `sampler.set_epoch(epoch)` makes each epoch's shuffle different.
# - Only rank 0 prints and saves: the copies are equal, and $W$ processes writing one
#   file would get in each other's way. The weights live in `model.module`, the model
#   inside the DDP wrapper.
#
# The rest of `main` runs this page's experiments (the traps and the timing) in the same
# launch, and rank 0 writes their results to a JSON file that the cells below read.
# `gather` uses another collective, `all_gather_object`, to collect what each rank saw.
# Its last lines drop the DDP models before `destroy_process_group()`, so that the
# group really ends there; the comment says why.
#
# ## Launching it with torchrun { #launching-it-with-torchrun }
#
# `torchrun --standalone --nproc-per-node=2 ddp_train.py results.json` starts two
# processes on this machine; `--standalone` lets them meet at a free port on this
# machine. In a terminal you type exactly that. From a notebook we run it as a
# subprocess: `torchrun` is `python -m torch.distributed.run`, and calling it through
# the kernel's own Python uses the same environment. (Starting the processes inside the
# kernel with `torch.multiprocessing.spawn` fails in Jupyter: the new processes must
# import the function they run, and a function defined in a notebook cannot be
# imported.) Everything stays on the loopback interface `lo` ("lo0" on macOS).

# %%
env = dict(os.environ, MASTER_ADDR="127.0.0.1", GLOO_SOCKET_IFNAME="lo")
env.pop("OMP_NUM_THREADS", None)  # let torchrun choose (see the traps)
command = [
    sys.executable, "-m", "torch.distributed.run",  # that is: torchrun
    "--standalone", "--nproc-per-node=2", "ddp_train.py", "results.json",
]
launch = subprocess.run(
    command, env=env, capture_output=True, text=True, timeout=300
)
print(launch.stdout, end="")
assert launch.returncode == 0, launch.stderr[-2000:]
results = json.loads(Path("results.json").read_text())
world_size = results["world_size"]
saved = sorted(p.name for p in Path().glob("*.pt"))
print("world size:", world_size, "; saved:", saved)

# %% [markdown]
# The five lines are rank 0's; rank 1 trained too, printing nothing.
#
# ## Who trains on which samples { #who-trains-on-which-samples }
#
# `DistributedSampler` needs no running processes to show what it does: give it the
# world size and a rank. In epoch $e$ it shuffles all $N$ indices with a generator
# seeded with `seed + e`, and rank $r$ takes every $W$-th of them, starting at $r$:

# %%
from ddp_train import LinearModel, make_data  # the script's own model and data

dataset = make_data(64)
# Epoch 0's shuffle: a generator seeded with seed 0 + epoch 0.
order = torch.randperm(64, generator=torch.Generator().manual_seed(0))
shards = [
    list(DistributedSampler(dataset, world_size, rank, seed=0)) for rank in range(2)
]
print("epoch 1, all 64 shuffled:", order[:8].tolist(), "...")
for rank, shard in enumerate(shards):
    print(f"rank {rank} ({len(shard)} samples):", shard[:4], "...")
    assert shard == order[rank::world_size].tolist() == results["orders"][rank][0]
everyone = sorted(shards[0] + shards[1])
print("every sample exactly once:", everyone == list(range(64)))

# %% [markdown]
# Each rank's first batch of 8 is the first 8 of its shard, so the first step uses
# the first 16 samples of the shuffled order, split between the two ranks. That is the
# batch a single process would take with `batch_size=16`.
#
# ## The same steps as one process { #the-same-steps-as-one-process }
#
# Here is the lesson's loop in this one process, over the same shuffles, with batches
# of 16. It starts from the same weights (`torch.manual_seed(0)` before the model is
# made, as in the script):

# %%
def one_process(
    dataset, lr=0.1, batch_size=16, epochs=5, reduction="mean", orders=None
):
    """The lesson's loop without DDP; `orders`, if given, replace the shuffles."""
    torch.manual_seed(0)
    model = LinearModel()
    criterion = torch.nn.MSELoss(reduction=reduction)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    x, y = dataset.tensors
    steps = []
    for epoch in range(epochs):
        seeded = torch.Generator().manual_seed(epoch)  # as DistributedSampler
        if orders is None:
            order = torch.randperm(len(x), generator=seeded)
        else:
            order = orders[epoch]
        for i in range(0, len(order), batch_size):
            batch = order[i : i + batch_size]
            loss = criterion(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps.append([model.linear.weight.item(), model.linear.bias.item()])
    return steps


def ulps(first, second):
    """Per step and parameter: how many float32 values apart two runs are."""
    a, b = torch.tensor(first), torch.tensor(second)  # float32, as trained
    assert torch.equal(a.sign(), b.sign())
    # Read as integers, float32 bits count the floats: neighbours differ by 1.
    return (a.view(torch.int32).long() - b.view(torch.int32).long()).abs()


single = one_process(dataset)
apart = ulps(results["steps"], single)
print(f"{len(single)} steps; bit for bit equal: {results['steps'] == single}")
print("largest difference (w, b) in ulp:", apart.max(dim=0).values.tolist())
print("steps that differ at all:", int((apart.sum(dim=1) > 0).sum()))
final = [("2 processes", results["steps"][-1]), ("1 process", single[-1])]
for name, (w, b) in final:
    print(f"{name}: w = {w:.6f}, b = {b:.6f}")
assert apart.max() <= 4  # the tolerance: 4 ulp, a relative error of at most 5e-7

# %% [markdown]
# The two runs take the same 20 steps: at each step, $w$ and $b$ agree to within one
# ulp (unit in the last place: the gap between a float32 and the next one, about
# $1.2 \times 10^{-7}$ relative). We allow 4. They are not equal bit for bit, because
# floating-point addition is not associative: one process adds the 16 samples'
# gradients in one sum, while DDP adds 8 on each rank, divides each sum by 2 and adds
# the two halves. Different order, different rounding in the last bit.
#
# To see that the order of the additions is the whole difference, do DDP's arithmetic
# in one process: for each step, take each rank's batch of 8, backpropagate its loss
# divided by $W$ (gradients accumulate in `.grad`), then step. This is an all-reduce by
# hand, and it matches the two processes bit for bit:

# %%
torch.manual_seed(0)
model = LinearModel()
criterion = torch.nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = dataset.tensors
by_hand = []
for epoch in range(5):
    shards = results["orders"]  # shards[rank][epoch]: the samples of that rank
    for i in range(0, 32, 8):
        optimizer.zero_grad()
        for rank in range(world_size):
            batch = shards[rank][epoch][i : i + 8]
            # Each rank's loss divided by W; backward adds its gradient to .grad.
            (criterion(model(x[batch]), y[batch]) / world_size).backward()
        optimizer.step()
        by_hand.append([model.linear.weight.item(), model.linear.bias.item()])
print("all-reduce by hand, bit for bit equal to DDP:", by_hand == results["steps"])
assert by_hand == results["steps"]

# %% [markdown]
# ## Four traps { #four-traps }
#
# ### `reduction="sum"` takes smaller steps { #reduction-sum }
#
# The lesson uses `MSELoss(reduction="sum")`. With a sum, the gradient of 16 samples is
# the *sum* of the two ranks' gradients, but DDP still averages them: the step is $1/W$,
# here half, of what one process takes with the same `lr`. Both runs below use `lr=0.005`:

# %%
torch.manual_seed(0)
initial = LinearModel().linear  # where every run starts
w0, b0 = initial.weight.item(), initial.bias.item()
single_sum = one_process(dataset, lr=0.005, reduction="sum")
(w1, b1), (w2, b2) = single_sum[0], results["sum"][0]
ratios = ((w2 - w0) / (w1 - w0), (b2 - b0) / (b1 - b0))
print(f"first step, 1 process:   dw = {w1 - w0:.4f}, db = {b1 - b0:.4f}")
print(f"first step, 2 processes: dw = {w2 - w0:.4f}, db = {b2 - b0:.4f}")
print(f"2 processes / 1 process: {ratios[0]:.3f}, {ratios[1]:.3f}")

# %% [markdown]
# Two fixes, both run by the script: multiply the learning rate by $W$, or register a
# communication hook that all-reduces with a plain sum (`sum_gradients` in the script;
# DDP's default hook divides by $W$ first). Either one takes the steps of one process:

# %%
fixes = {"sum_lr_w": "lr x W = 0.01", "sum_hook": "lr = 0.005, sum hook"}
for name, label in fixes.items():
    apart = ulps(results[name], single_sum).max(dim=0).values
    print(f"{label}: (w, b) within", apart.tolist(), "ulp of 1 process")
    assert apart.max() <= 4

# %% [markdown]
# With `reduction="mean"` nothing needs fixing: the mean divides by the batch size,
# and DDP's average divides by $W$, which together divide by $Wb$, the size of the
# batch one process would take. That is why the script uses it.
#
# ### A world size that does not divide N { #a-world-size-that-does-not-divide-n }
#
# With 63 samples and $W = 2$, the shards cannot be equal. `DistributedSampler` then
# makes them equal by *repeating* samples: it appends the first samples of the
# shuffled order until $W$ divides the total. Each rank gets 32 samples, and one sample
# is used twice per epoch:

# %%
uneven = make_data(63)
twice = []
for epoch in range(5):
    orders = results["uneven"]["orders"]  # orders[rank][epoch]
    used = orders[0][epoch] + orders[1][epoch]
    repeated = sorted(i for i in set(used) if used.count(i) > 1)
    twice.append(repeated)
    shuffle = torch.randperm(63, generator=torch.Generator().manual_seed(epoch))
    first = shuffle[0].item()
    print(
        f"epoch {epoch + 1}: {len(used)} samples, {repeated} twice;",
        f"first of the shuffle: {first}",
    )
    assert repeated == [first]

# %% [markdown]
# So the two processes train on a slightly different problem, with one sample
# counted twice. One process that uses the 63 samples once each ends elsewhere; one
# process given the padded order (the shuffle plus its first sample again) takes the
# steps of the two processes:

# %%
shuffles = [
    torch.randperm(63, generator=torch.Generator().manual_seed(e)) for e in range(5)
]
padded = [torch.cat([order, order[:1]]) for order in shuffles]
dropped = [order[:62] for order in shuffles]
ddp_padded, ddp_dropped = results["uneven"]["steps"], results["drop_last"]["steps"]
once = one_process(uneven)
with_padding = one_process(uneven, orders=padded)
with_drop = one_process(uneven, orders=dropped)
for label, steps in [
    ("2 processes, 63 samples:    ", ddp_padded),
    ("1 process, 63 samples:      ", once),
    ("1 process, padded to 64:    ", with_padding),
    ("2 processes, drop_last:     ", ddp_dropped),
    ("1 process, last one dropped:", with_drop),
]:
    print(label, f"w = {steps[-1][0]:.4f}, b = {steps[-1][1]:.4f}")
for label, apart in [
    ("2 processes vs padded", ulps(ddp_padded, with_padding)),
    ("drop_last vs last one dropped", ulps(ddp_dropped, with_drop)),
]:
    print(f"{label}: (w, b) within", apart.max(dim=0).values.tolist(), "ulp")
    assert apart.max() <= 4
assert abs(ddp_padded[-1][0] - once[-1][0]) > 1e-3

# %% [markdown]
# The padded run learns $w$ about 0.001 away from the run that uses every sample once.
# Here that is small; with few samples or a few outliers repeated, it is not.
# `DistributedSampler(..., drop_last=True)` repeats nothing: it drops the last
# $N \,\mathrm{mod}\, W$ samples of each epoch's shuffle (whichever one the shuffle puts last), so
# each rank gets 31. That too is not the one-process run, which uses all 63. The exact fix is to
# choose $N$ (or $W$) so that $W$ divides $N$, as the script does with 64.
#
# ### Forgetting `set_epoch` { #forgetting-set-epoch }
#
# The sampler's shuffle is seeded with `seed + epoch`, and the sampler only learns the
# epoch from `set_epoch`. Without it, every epoch uses epoch 0's order. Rank 0's
# first samples in the first three epochs, with and without `set_epoch`:

# %%
for label, orders in [
    ("with set_epoch:   ", results["orders"][0]),
    ("without set_epoch:", results["no_set_epoch"]["orders"][0]),
]:
    distinct = len({tuple(order) for order in orders})
    firsts = [order[:4] for order in orders[:3]]
    print(label, firsts, f"; distinct orders in 5 epochs: {distinct}")
epoch_1 = torch.randperm(64, generator=torch.Generator().manual_seed(0))
# Epoch 1's shuffle in every epoch:
same_order = one_process(dataset, orders=[epoch_1] * 5)
apart = ulps(results["no_set_epoch"]["steps"], same_order).max(dim=0).values
print(
    "no set_epoch vs one process repeating epoch 1: (w, b) within",
    apart.tolist(),
    "ulp",
)
assert apart.max() <= 4

# %% [markdown]
# Nothing fails and nothing warns: the model is trained on the same sequence of batches
# every epoch, which loses much of what shuffling is for. Call `sampler.set_epoch(epoch)`
# at the start of every epoch.
#
# ### torchrun sets `OMP_NUM_THREADS=1` { #torchrun-sets-omp-num-threads }
#
# PyTorch runs an operation on several threads when the tensors are large enough, by
# default one per core. $W$ processes with one thread per core each would ask for $W$
# times as many threads as there are cores, so torchrun sets `OMP_NUM_THREADS=1` for
# every process unless you set it yourself, and says so on stderr:

# %%
lines = launch.stderr.splitlines()
notice = [line.split("] ", 1)[-1] for line in lines if "OMP_NUM" in line]
print("torchrun:", *notice)
print(
    "in the script, per rank (OMP_NUM_THREADS, torch threads):",
    results["threads"],
)
print("in this kernel, torch threads:", torch.get_num_threads())

# %% [markdown]
# With one process per core that is the right number. With fewer processes than cores
# (say 2 processes on 16 cores), each process now uses one core and the rest idle:
# set `OMP_NUM_THREADS` to cores ÷ processes in the environment of `torchrun`. A model
# as small as ours gains nothing from threads either way.
#
# ## How fast? { #how-fast }
#
# The script also timed the same training on $2^{13} = 8192$ samples: first rank 0
# alone (in a process group of its own, `dist.new_group([0])`, so that the same `train`
# runs unchanged), then both processes with half the batch each, so that both runs take
# the same steps. Each run lasted 3 epochs; we keep each run's fastest epoch. The times are
# measured on the machine that built this page, while it ran the other pages' notebooks
# on the same two cores, and they change from run to run:

# %% tags=["varies"] alt="Time per epoch against the number of processes, 1 and 2, for batches of 64 and of 1,024 samples on the same data, with a dotted line from each one-process time to half of it, the most two cores can give; measured while the page was built, so the values change from build to build."
fig, ax = plt.subplots(figsize=(6, 4))
for batch_size in [64, 1024]:
    ms = [1000 * min(results[f"seconds_{batch_size}_{p}"]) for p in (1, world_size)]
    steps = 2**13 // batch_size
    label = f"batch {batch_size} ({steps} steps per epoch)"
    (line,) = ax.plot([1, world_size], ms, marker="o", label=label)
    half = [ms[0], ms[0] / world_size]
    ax.plot([1, world_size], half, ":", color=line.get_color())
    print(
        f"batch {batch_size:>4}: 1 process {ms[0]:.0f} ms,",
        f"2 processes {ms[1]:.0f} ms per epoch",
    )
ax.set_xticks([1, world_size])
ax.set_xlabel("processes")
ax.set_ylabel("time per epoch (ms)")
ax.set_ylim(bottom=0)
ax.set_title("Time per epoch (dotted: twice as fast)")
ax.legend()
plt.show()

# %% [markdown]
# Two processes on two cores can at best halve the time (the dotted lines), and only
# if both cores are free: while this page was built, other notebooks ran on them too,
# so expect less, or even a loss. Most of a step's work here is the `DataLoader`
# fetching samples one at a time, which the two processes share. Both batch sizes do
# the same work per epoch, but with batches of 64 an epoch makes 128 all-reduces, with
# 1,024 only 8, and each all-reduce waits until both processes have reached it. So the
# small batch gains less from the second process, or loses more. On more cores, and
# more so across machines, the same trade decides how far DDP scales: much work per
# step, few all-reduces.
#
# ## Several machines, on paper { #several-machines-on-paper }
#
# This part is **not executed**: the site is built on one machine, and nothing here
# leaves its loopback interface. With several machines (*nodes*), the same script runs
# unchanged; you start torchrun once on each node and tell it how to find the others.
# With 2 nodes of 4 processes each ($W = 8$), and `$HEAD` the address of the first
# node, run on every node:
#
# ```bash
# torchrun --nnodes=2 --nproc-per-node=4 --rdzv-backend=c10d \
#     --rdzv-endpoint=$HEAD:29400 --rdzv-id=linreg ddp_train.py results.json
# ```
#
# or, with a fixed meeting point, `--node-rank=0` on the first node and `--node-rank=1`
# on the second, plus `--master-addr=$HEAD --master-port=29500` on both.
#
# What changes:
#
# - the launch: `--nnodes`, and a rendezvous endpoint (or master address and node rank)
#   that every node can reach through the network and its firewall;
# - $W$ counts all processes of all nodes, and `RANK` numbers them across the nodes;
#   `LOCAL_RANK` numbers them within a node;
# - on GPUs the backend is `nccl`, and each process uses the GPU of its local rank:
#   `torch.cuda.set_device(local_rank)`, the model moved there and wrapped as
#   `DistributedDataParallel(model, device_ids=[local_rank])`, each batch moved there;
# - gloo and NCCL pick a network interface; on machines with several, name it
#   (`GLOO_SOCKET_IFNAME`, `NCCL_SOCKET_IFNAME`);
# - rank 0 is one process of the whole job: it saves to its own machine's disk, or to
#   a file system all nodes share.
#
# What does not: the training loop, the sampler and `set_epoch`, the average of the
# gradients and the traps (a sum needs `lr` × $W$; $W$ must divide $N$, with the
# larger $W$).
#
# The official documentation: [torchrun](https://docs.pytorch.org/docs/stable/elastic/run.html),
# [DDP's design notes](https://docs.pytorch.org/docs/stable/notes/ddp.html) and the
# [DDP tutorial](https://docs.pytorch.org/tutorials/intermediate/ddp_tutorial.html).
#
# ## What to remember { #what-to-remember }
#
# - Data parallelism: $W$ processes, each with a full copy of the model and a shard of
#   the data; after `backward` the gradients are all-reduced (averaged), so the copies
#   take the same step.
# - With `reduction="mean"` and equal shards, $W$ processes with batches of $b$ take
#   the steps of one process with batches of $Wb$: equal up to the order of the
#   floating-point additions, a few ulp.
# - The script: `init_process_group`, `DistributedDataParallel(model)`, a
#   `DistributedSampler` with `set_epoch(epoch)` every epoch, rank 0 prints and saves;
#   launch it with `torchrun`, not from inside a notebook's kernel.
# - The traps: a summed loss needs `lr` × $W$ (or a sum hook); choose $N$ so that $W$
#   divides it; call `set_epoch`; torchrun gives each process one thread.
#
# ## Exercises
#
# **1. Shards by hand.** With 10 samples and $W = 4$, which samples does each rank get
# from `DistributedSampler(..., shuffle=False)`? Which are used twice? And with
# `drop_last=True`, which are left out?

# %% [markdown] tags=["solution"]
# Without shuffling, the order is 0 to 9. The sampler pads it to 12, a multiple of 4,
# with its first samples, and rank $r$ takes every fourth from $r$; with `drop_last`
# it cuts the order to 8 instead:

# %% tags=["solution"]
for drop_last in [False, True]:
    options = {"shuffle": False, "drop_last": drop_last}
    shards = [
        list(DistributedSampler(range(10), 4, rank, **options)) for rank in range(4)
    ]
    used = sum(shards, [])
    twice = sorted(i for i in set(used) if used.count(i) > 1)
    left_out = sorted(set(range(10)) - set(used))
    print(
        f"drop_last={drop_last}: shards {shards};",
        f"twice {twice}; left out {left_out}",
    )
    assert (twice, left_out) == (([], [8, 9]) if drop_last else ([0, 1], []))

# %% [markdown]
# **2. Four processes, by hand.** Do DDP's arithmetic for $W = 4$ in this process:
# shards from `DistributedSampler(dataset, 4, rank, seed=0)`, batches of 4 per rank,
# each rank's loss divided by 4 before `backward`. Which one-process run should it
# match, and does it?

# %% [markdown] tags=["solution"]
# Four ranks with batches of 4 take the steps of one process with batches of 16, the
# `single` run above:

# %% tags=["solution"]
def all_reduce_by_hand(world_size, lr=0.1, batch_size=4, reduction="mean"):
    """DDP's steps for `world_size` ranks, computed in this one process."""
    torch.manual_seed(0)
    model = LinearModel()
    criterion = torch.nn.MSELoss(reduction=reduction)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    ranks = range(world_size)
    samplers = [DistributedSampler(dataset, world_size, r, seed=0) for r in ranks]
    steps = []
    for epoch in range(5):
        for sampler in samplers:
            sampler.set_epoch(epoch)
        shards = [list(sampler) for sampler in samplers]
        for i in range(0, len(shards[0]), batch_size):
            optimizer.zero_grad()
            for shard in shards:
                batch = shard[i : i + batch_size]
                (criterion(model(x[batch]), y[batch]) / world_size).backward()
            optimizer.step()
            steps.append([model.linear.weight.item(), model.linear.bias.item()])
    return steps


four = all_reduce_by_hand(4)
w, b = four[-1]
print(f"4 ranks by hand: {len(four)} steps, w = {w:.6f}, b = {b:.6f}")
apart = ulps(four, single).max(dim=0).values
print("against one process, batches of 16: (w, b) within", apart.tolist(), "ulp")
assert apart.max() <= 4

# %% [markdown]
# **3. The sum trap with four processes.** With `reduction="sum"` and $W = 4$, which
# learning rate takes the steps of one process with `reduction="sum"` and `lr=0.005`?
# Check it with `all_reduce_by_hand`.

# %% [markdown] tags=["solution"]
# DDP divides the summed gradients by 4: multiply the rate by 4.

# %% tags=["solution"]
lr = 0.005 * 4
four_sum = all_reduce_by_hand(4, lr=lr, reduction="sum")
apart = ulps(four_sum, single_sum).max(dim=0).values
print(f"lr = {lr}: against one process, (w, b) within", apart.tolist(), "ulp")
assert apart.max() <= 4

# %% [markdown]
# **4. Counting all-reduces.** In the timing runs ($2^{13}$ samples, two processes),
# how many all-reduces does one epoch make with batches of 64 and of 1,024? How many
# samples does each process load per epoch?

# %% [markdown] tags=["solution"]
# One all-reduce per step, and each process loads its half of the data whatever the
# batch size:

# %% tags=["solution"]
n = 2**13
for batch_size in [64, 1024]:
    print(
        f"batch {batch_size}: {n // batch_size} all-reduces per epoch,",
        f"{n // 2} samples per process",
    )
assert [n // 64, n // 1024, n // 2] == [128, 8, 4096]

# %% [markdown]
# That is the last tutorial. Keep the [summary](summary.md) open while you write your
# own loops, or go back to the [tutorials](index.md).
