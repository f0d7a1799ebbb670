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
# # Minibatches
#
# Until now every update has looked at all the data: *full-batch* gradient descent. With
# three points that costs nothing; with a million, every single step has to read a
# million samples. A **minibatch** is a small random subset of the data. Each update
# computes the loss and its gradient on one minibatch only, so one pass over the data
# (one epoch) makes many cheap updates instead of one expensive one.
#
# ## Data with two features
#
# We draw 500 samples of $y = 2x_1 - 3.4x_2 + 4.2$ plus a little noise. The model now
# has two input features, $\hat{y} = w_1x_1 + w_2x_2 + b$: still one `nn.Linear` layer.
# The closed-form solution of [tutorial 1](01-gradient-descent.md) gives the best
# weights, and the smallest loss any training run can reach.

# %%
import math
import time

import torch
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    TensorDataset,
)

import linreg

x, y = linreg.synthetic_data([2.0, -3.4], 4.2, n=500, noise=0.01, seed=0)
print(x.shape, y.shape)
criterion = torch.nn.MSELoss()  # reduction="mean"
w_star, b_star = linreg.fit_closed_form(x, y)
best_loss = criterion(x @ w_star.T + b_star, y).item()
print(
    "closed form: w =",
    [round(v, 4) for v in w_star.flatten().tolist()],
    " b =",
    round(b_star.item(), 4),
    f" loss = {best_loss:.3g}",
)

# %% [markdown]
# ## What one epoch looks like
#
# `linreg.minibatches` shuffles the rows once per epoch and cuts them into batches; the
# last batch keeps the remainder, so no sample is skipped. With 500 samples and a batch
# size of 32 that is 15 full batches and one of 20, so one epoch makes
# $\lceil 500/32 \rceil = 16$ updates:

# %%
generator = torch.Generator().manual_seed(0)
sizes = [
    len(x_batch)
    for x_batch, y_batch in linreg.minibatches(x, y, 32, generator=generator)
]
print(len(sizes), "batches; sizes:", sizes[:3], "...", sizes[-2:])

# %% [markdown]
# ## The minibatch loop in plain PyTorch
#
# The loop is the lesson's loop ([tutorial 2](02-pytorch-lesson.md)) with one more
# level: for every epoch, for every batch, run the same five lines. Every run below
# starts from the same initial weights with a fresh SGD at `lr=0.03`, and the function
# `one_epoch` is those five lines, applied to each batch in turn.

# %%
epochs, batch_size = 5, 32


def start(lr=0.03):
    """The same initial weights for every run, and a fresh SGD."""
    torch.manual_seed(0)
    model = linreg.LinearModel(in_features=2)
    return model, torch.optim.SGD(model.parameters(), lr=lr)


def one_epoch(model, optimizer, batches):
    """The lesson's update once per batch; returns the batch losses."""
    batch_losses = []
    for x_batch, y_batch in batches:
        loss = criterion(model(x_batch), y_batch)
        batch_losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return batch_losses


def full_loss(model):
    """The loss on all 500 samples: how good the model is."""
    with torch.no_grad():
        return criterion(model(x), y).item()


# %% [markdown]
# **(a) `DataLoader`**, PyTorch's general tool. `shuffle=True` draws a new order every
# epoch, and each batch is assembled from the dataset one sample at a time:

# %%
model, optimizer = start()
loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
for epoch in range(epochs):
    one_epoch(model, optimizer, loader)
    print(f"epoch {epoch + 1}: full-data loss {full_loss(model):.4g}")

# %% [markdown]
# **(b) A random permutation and slices**, the fast idiom for tensors already in memory:
# one `torch.randperm` per epoch, then one indexing call per batch. A generator with a
# fixed seed makes the order reproducible.

# %%
model, optimizer = start()
generator = torch.Generator().manual_seed(0)
step_losses = []
for epoch in range(epochs):
    perm = torch.randperm(len(x), generator=generator)
    batches = [
        (x[perm[i : i + batch_size]], y[perm[i : i + batch_size]])
        for i in range(0, len(x), batch_size)
    ]
    step_losses += one_epoch(model, optimizer, batches)
print(f"{len(step_losses)} updates, full-data loss {full_loss(model):.4g}")

# %% [markdown]
# `linreg.train(..., batch_size=32, seed=0)` is this loop in one call: it draws one
# `torch.randperm` per epoch from a generator seeded with `seed`, and slices it. So it
# reproduces (b) bit for bit, every batch loss and the final weights:

# %%
new_model, new_optimizer = start()
history = linreg.train(
    new_model, x, y, criterion, new_optimizer, epochs, batch_size, seed=0
)
print("same batch losses:", history.step_losses == step_losses)
print(
    "same w and b:",
    torch.equal(history.weight, model.linear.weight),
    torch.equal(history.bias, model.linear.bias),
)

# %% [markdown]
# **(c) `DataLoader` with a `BatchSampler`**: torch's own fast path. With
# `batch_size=None` the loader asks the dataset for a whole batch at once, and
# `TensorDataset` answers a list of indices with one indexing call per tensor.
# `RandomSampler` draws its order with `torch.randperm` from the generator we give it,
# so its first epoch is exactly (b)'s. The later epochs are not:

# %%
dataset = TensorDataset(x, y)
sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(0))
loader = DataLoader(
    dataset,
    sampler=BatchSampler(sampler, batch_size, drop_last=False),
    batch_size=None,
)
model, optimizer = start()
sampler_losses = []
for epoch in range(epochs):
    sampler_losses += one_epoch(model, optimizer, loader)
print("first epoch the same:", sampler_losses[:16] == step_losses[:16])
print("all five the same:", sampler_losses == step_losses)

generator = torch.Generator().manual_seed(0)
perms = [torch.randperm(len(x), generator=generator).tolist() for _ in range(3)]
sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(0))
first, second = list(sampler), list(sampler)
print("sampler's epoch 1 is permutation 1:", first == perms[0])
print(
    "its epoch 2 is permutation 2:",
    second == perms[1],
    "; permutation 3:",
    second == perms[2],
)

# %% [markdown]
# At the end of every epoch `RandomSampler` draws one more permutation and uses none of
# it. Its last line serves the part of `num_samples` (how many samples it was asked
# for) that is not a whole multiple of the data size, and it draws a permutation even
# when that part is empty. Its second epoch is therefore the generator's third
# permutation, not its second. The batches are just as random; they are only not the
# same as (b)'s, so `linreg.train` matches (c) for one epoch and (b) for any number of
# epochs.
#
# ## Full batch, minibatch, one sample per step
#
# Three runs from the same initial weights, 5 epochs each, SGD with `lr=0.03`: the whole
# data per update, batches of 32, and batches of a single sample (the original
# "stochastic" gradient descent). A batch loss only tells how the model does on that
# batch. So `linreg.train` also records the loss on all the data, computed under
# `torch.no_grad()`, in `history.full_losses`: after every epoch by default, and after
# every update with `full_loss_every="update"`. `history.final_loss` is the last of
# them, the loss of the trained model.

# %%
settings = {"full batch": None, "batch 32": 32, "batch 1": 1}
runs = {}
for name, size in settings.items():
    model, optimizer = start()
    runs[name] = linreg.train(
        model, x, y, criterion, optimizer, epochs, size,
        seed=0, full_loss_every="update",
    )

header = ["run", "updates", "final loss", "w1", "w2", "b"]
print("{:<12}{:>9}{:>12}{:>9}{:>9}{:>9}".format(*header))
for name, run in runs.items():
    w1, w2 = run.weight.flatten().tolist()
    row = [name, len(run.step_losses), run.final_loss, w1, w2, run.bias.item()]
    print("{:<12}{:>9}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}".format(*row))
print(f"initial loss (all runs): {runs['batch 1'].full_losses[0]:.3g}")
print(f"best possible loss (closed form): {best_loss:.3g}")

# %% [markdown]
# In its 5 updates the full-batch run has only halved the initial loss. Batch 32 made 80
# updates in the same 5 epochs and is close to the answer; batch 1 made 2,500 and is
# near the best possible loss.
#
# ## Loss against epochs
#
# Per epoch, the minibatch runs are far ahead: in the same pass over the data they make
# 16 or 500 times as many updates. `full_losses` starts with the initial loss and then
# holds one value per update, so every 16th value (or 500th) is the loss at the end of
# an epoch.

# %% alt="Full-data loss against epoch on a logarithmic scale, all three runs starting from the same loss: batch 1 reaches the bottom, near the smallest possible loss, within the first epoch, batch 32 descends steadily to far below full batch, which hardly moves."
per_epoch = {}
for name, run in runs.items():
    updates_per_epoch = len(run.step_losses) // epochs
    per_epoch[name] = run.full_losses[::updates_per_epoch]
linreg.plot_comparison(
    per_epoch, kind="overlay", ylabel="full-data loss", lang="en"
)

# %% [markdown]
# ## Loss against updates
#
# Per update the picture is different. A full-batch step follows the exact gradient; a
# minibatch step follows a noisy estimate of it, which points the right way on average.
# The curves below are the loss on all the data after each update (`full_losses[1:]`,
# without the initial loss); both axes are logarithmic because the runs differ 500-fold
# in length. While the gradient is large compared with its noise, the three runs fall
# at about the same rate per update, although a full-batch update reads 500 samples, a
# batch-32 update 32 and a batch-1 update one. Near the bottom the noise takes over:

# %% alt="Full-data loss against the number of updates, both axes logarithmic: full batch (5 updates), batch 32 (80 updates) and batch 1 (2,500 updates) fall at about the same rate per update at first; batch 1 then levels off near the smallest possible loss and wobbles there, while batch 32 is still falling at its last update."
per_update = {name: run.full_losses[1:] for name, run in runs.items()}
linreg.plot_comparison(
    per_update,
    kind="overlay",
    per="update",
    xlog=True,
    ylabel="full-data loss",
    lang="en",
)

# %%
for name in ["batch 32", "batch 1"]:
    run = runs[name]
    last_epoch = run.full_losses[-len(run.step_losses) // epochs :]
    low, high = min(last_epoch), max(last_epoch)
    print(f"{name}, last epoch: full-data loss from {low:.3g} to {high:.3g}")

# %% [markdown]
# In its last epoch batch 32 is still descending: its loss falls from the top of that
# range to the bottom. Batch 1 reached the bottom in its first epoch and has wandered
# since, up to 40 % above the best possible loss, each single-sample step kicking it
# around a little. A smaller learning rate late in training would let it settle.
#
# So the trade is cheap, noisy steps against expensive, exact ones. On large data the
# cheap steps win by a wide margin, which is why nearly all deep learning trains on
# minibatches.
#
# ## One learning rate for every batch size?
#
# With `reduction="mean"` the loss of a batch is the average over its samples, so its
# gradient is the average of the samples' gradients. Its *expectation* is the full
# gradient whatever the batch size: that is what `"mean"` buys (with `"sum"` the
# gradient grows with the batch). Its *variance* is another matter: an average of $B$
# random samples has $1/B$ of their variance, so its spread around the full gradient
# shrinks like $1/\sqrt{B}$. Measured at the initial weights, over 200 random batches
# of each size:

# %%
model, optimizer = start()


def gradient(index):
    """The gradient (w1, w2, b) of the batch loss of the rows `index`."""
    model.zero_grad()
    criterion(model(x[index]), y[index]).backward()
    weight, bias = model.linear.weight.grad, model.linear.bias.grad
    return torch.cat([weight.flatten(), bias])


full = gradient(torch.arange(len(x)))
generator = torch.Generator().manual_seed(0)
print(f"{'batch size':>10}{'mean off by':>13}{'spread':>9}{'spread·√B':>11}")
for size in [1, 32, 500]:
    draws = torch.stack(
        [
            gradient(torch.randperm(len(x), generator=generator)[:size])
            for _ in range(200)
        ]
    )
    mean_off = (draws.mean(dim=0) - full).norm() / full.norm()
    spread = (draws - full).norm(dim=1).pow(2).mean().sqrt() / full.norm()
    scaled = spread * size**0.5
    print(f"{size:>10}{mean_off:>13.3f}{spread:>9.3f}{scaled:>11.2f}")

# %% [markdown]
# All three columns are relative to the length of the full gradient. The mean of the 200
# batch gradients lands near the full gradient at every size (an average of 200 noisy
# draws is itself a little noisy). The spread is almost twice the gradient itself for
# single samples and about a third of it for batches of 32: spread·√B stays near 1.8.
# (Exactly, the variance is $\sigma^2/B$ times $(N-B)/(N-1)$ for batches drawn without
# replacement, which is why it is zero at $B = N = 500$, up to rounding.)
#
# So `"mean"` saves you from rescaling the learning rate by the batch size, but it does
# not make the batch size irrelevant: a learning rate that is fine for the exact
# gradient can be too noisy for single samples, and one that suits single samples can
# be too slow for large batches. Exercise 4 measures it.
#
# ## DataLoader, and faster ways for tensors in memory
#
# `DataLoader` is general: it reads from disk, decodes images, runs worker processes.
# For tensors already in memory that generality costs time, because by default it
# fetches every batch one sample at a time and stacks the samples. Here is one epoch of
# *only the batching* (no training) over 100,000 rows in batches of 1,024, with (a),
# (c) and (b). The times are measured on the machine that built this page and change
# from run to run:

# %% tags=["varies"]
x_big, y_big = linreg.synthetic_data([2.0, -3.4], 4.2, n=100_000, seed=1)
big = TensorDataset(x_big, y_big)
seconds = {}

start_time = time.perf_counter()
for x_batch, y_batch in DataLoader(big, batch_size=1024, shuffle=True):
    pass
seconds["DataLoader, default"] = time.perf_counter() - start_time

start_time = time.perf_counter()
batch_sampler = BatchSampler(RandomSampler(big), 1024, drop_last=False)
for x_batch, y_batch in DataLoader(big, sampler=batch_sampler, batch_size=None):
    pass
seconds["DataLoader, BatchSampler"] = time.perf_counter() - start_time

start_time = time.perf_counter()
perm = torch.randperm(len(x_big))
for i in range(0, len(x_big), 1024):
    x_batch, y_batch = x_big[perm[i : i + 1024]], y_big[perm[i : i + 1024]]
seconds["randperm and slices"] = time.perf_counter() - start_time

for name, value in seconds.items():
    print(f"{value * 1000:7.1f} ms  {name}")

# %% [markdown]
# The `BatchSampler` path saves the per-sample calls; it still hands out each batch as
# a Python list of 1,024 integers, which is converted back into an index tensor. The
# permutation and its slices never leave torch. Use `DataLoader` when the data does not
# fit in memory or needs work per sample; for tensors that are already there, slices of
# a permutation are all you need, and that is what `linreg.train` uses.
#
# ## What to remember
#
# - One epoch is one pass over the data; with batch size $B$ it makes $\lceil N/B \rceil$
#   updates.
# - The minibatch loop is the lesson's loop inside a loop over batches; for tensors in
#   memory, draw `torch.randperm` once per epoch and slice it.
# - A batch loss describes one batch; to see how good the model is, compute the loss on
#   all the data under `torch.no_grad()`.
# - `reduction="mean"` keeps the gradient's expectation independent of the batch size,
#   not its noise: the spread shrinks like $1/\sqrt{B}$.
# - Per epoch, minibatches win by far. Per update, full batch is at best a little ahead
#   while the gradient is large, and the smaller the batch, the more it wanders near
#   the minimum.
#
# ## Exercises
#
# **1. Counting updates.** With $N = 500$ and $B = 32$, how many updates does one epoch
# make? How many with `drop_last=True`, which drops the last, incomplete batch? Check
# both with `len()` of a `DataLoader`.

# %% [markdown] tags=["solution"]
# Without `drop_last` the last batch holds the remainder, so the count rounds up; with
# it, the count rounds down. A `DataLoader` knows its length in batches:

# %% tags=["solution"]
n = len(x)
updates = math.ceil(n / 32)
updates_drop_last = n // 32
lengths = [
    len(DataLoader(dataset, batch_size=32, drop_last=drop_last))
    for drop_last in [False, True]
]
print("updates per epoch:", updates, "; drop_last=True:", updates_drop_last)
assert lengths == [updates, updates_drop_last] == [16, 15]

# %% [markdown]
# **2. The epoch loop with `drop_last=True`.** Rewrite loop (b) so that every epoch skips
# the last, incomplete batch. Train 5 epochs from `start()` and count the updates, and
# how many samples each epoch leaves out.

# %% [markdown] tags=["solution"]
# Stop the slices at the last multiple of the batch size. Which 20 samples are left
# out depends on the epoch's permutation:

# %% tags=["solution"]
model, optimizer = start()
generator = torch.Generator().manual_seed(0)
updates, left_out = 0, []
for epoch in range(epochs):
    perm = torch.randperm(len(x), generator=generator)
    end = len(x) - len(x) % batch_size
    batches = [
        (x[perm[i : i + batch_size]], y[perm[i : i + batch_size]])
        for i in range(0, end, batch_size)
    ]
    updates += len(one_epoch(model, optimizer, batches))
    left_out.append(len(x) - end)
print("updates:", updates, "; samples left out per epoch:", left_out)
print(f"full-data loss: {full_loss(model):.4g}")
assert updates == epochs * (len(x) // batch_size) == 75

# %% [markdown]
# **3. `reduction="sum"` scales the gradient.** Take one batch of 32 samples and compute
# the gradient of its loss with `reduction="sum"` and with `reduction="mean"`. Show that
# the first is 32 times the second. What would that mean for the learning rate?

# %% [markdown] tags=["solution"]
# The sum of 32 losses is 32 times their mean, and so is its gradient:

# %% tags=["solution"]
model, optimizer = start()
x_batch, y_batch = x[:32], y[:32]
grads = {}
for reduction in ["sum", "mean"]:
    model.zero_grad()
    loss = linreg.make_criterion(reduction)(model(x_batch), y_batch)
    loss.backward()
    grads[reduction] = torch.cat(
        [model.linear.weight.grad.flatten(), model.linear.bias.grad]
    )
ratio = grads["sum"] / grads["mean"]
print("sum / mean, per parameter:", [f"{r:.4f}" for r in ratio.tolist()])
assert torch.allclose(grads["sum"], 32 * grads["mean"])

# %% [markdown] tags=["solution"]
# With `"sum"` the step `lr * gradient` grows with the batch, so changing the batch size
# would call for a learning rate divided by the same factor; `"mean"` does that division
# for you.

# %% [markdown]
# **4. One learning rate for every batch size?** Train one epoch from `start()` at batch
# size 1 and at batch size 32, for each `lr` in 0.3, 0.03 and 0.003. Which
# learning rates bring the full-data loss below 0.001 in that epoch?

# %% [markdown] tags=["solution"]
# `history.final_loss` is the full-data loss after the last update:

# %% tags=["solution"]
learning_rates = [0.3, 0.03, 0.003]
below = {}
for size in [1, 32]:
    below[size] = []
    for lr in learning_rates:
        model, optimizer = start(lr)
        run = linreg.train(model, x, y, criterion, optimizer, 1, size, seed=0)
        print(f"batch {size:>2}, lr={lr:<6} final loss {run.final_loss:.3g}")
        if run.final_loss < 0.001:
            below[size].append(lr)
print("below 0.001 at batch 1:", below[1], "; at batch 32:", below[32])
assert below == {1: [0.03], 32: [0.3]}

# %% [markdown] tags=["solution"]
# No single value works for both. At batch size 1, `lr=0.3` is too noisy: every step
# is 0.3 times one sample's gradient, and those scatter by about twice the full
# gradient's length (the table above). `lr=0.003` is too slow. At batch size 32 one
# epoch is only 16 updates, and only the largest learning rate gets there in so few
# steps, while it is still well below the stable bound of full batch.

# %% [markdown]
# Next: [pitfalls](06-pitfalls.md).
