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
# So far every update used all the data: *full-batch* gradient descent. With three points
# that is free; with a million it is not, because every single step has to look at every
# sample. A **minibatch** is a small random subset of the data. Each update computes the
# loss and its gradient on one minibatch only, so one pass over the data (one epoch)
# makes many updates instead of one.
#
# ## Data with two features
#
# We draw 500 samples of $y = 2x_1 - 3.4x_2 + 4.2$ plus a little noise. The model now
# has two input features: $\hat{y} = w_1x_1 + w_2x_2 + b$, still one `nn.Linear` layer.

# %%
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

import linreg

x, y = linreg.synthetic_data([2.0, -3.4], 4.2, n=500, noise=0.01, seed=0)
print(x.shape, y.shape)
w_star, b_star = linreg.fit_closed_form(x, y)
print(
    "closed form: w =",
    [round(v, 4) for v in w_star.flatten().tolist()],
    " b =",
    round(b_star.item(), 4),
)

# %% [markdown]
# ## What one epoch looks like
#
# `linreg.minibatches` shuffles the rows once per epoch and cuts them into batches; the
# last batch keeps the remainder, so no sample is skipped. With 500 samples and a batch
# size of 32 that is 15 full batches and one of 20:

# %%
generator = torch.Generator().manual_seed(0)
sizes = [
    len(x_batch)
    for x_batch, y_batch in linreg.minibatches(x, y, 32, generator=generator)
]
print(len(sizes), "batches; sizes:", sizes[:3], "...", sizes[-2:])

# %% [markdown]
# With `reduction="mean"` the loss of a batch is the average over its samples, so its
# gradient is an estimate of the full-data gradient whatever the batch size, and one
# learning rate suits every batch size. (With `reduction="sum"` the gradient would grow
# with the batch.)
#
# ## Full batch, minibatch, one sample per step
#
# Three runs from the same initial weights, 5 epochs each, SGD with `lr=0.03`: the whole
# data per update, batches of 32, and batches of a single sample (the original
# "stochastic" gradient descent).

# %%
settings = {"full batch": None, "batch 32": 32, "batch 1": 1}
runs = {}
for name, batch_size in settings.items():
    torch.manual_seed(0)
    model = linreg.LinearModel(in_features=2)
    optimizer = linreg.make_optimizer("SGD", model.parameters(), lr=0.03)
    criterion = linreg.make_criterion("mean")
    runs[name] = linreg.train(
        model,
        x,
        y,
        criterion,
        optimizer,
        epochs=5,
        batch_size=batch_size,
        seed=0,
    )

header = ["run", "updates", "final loss", "w1", "w2", "b"]
print("{:<12}{:>9}{:>12}{:>9}{:>9}{:>9}".format(*header))
for name, run in runs.items():
    w1, w2 = run.weight.flatten().tolist()
    row = [name, len(run.step_losses), run.final_loss, w1, w2, run.bias.item()]
    print("{:<12}{:>9}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}".format(*row))

# %% [markdown]
# ## Loss against epochs
#
# Per epoch, the minibatch runs are far ahead: in the same pass over the data they made
# 16 or 500 times more updates.

# %% alt="Loss against epoch on a logarithmic scale for full batch, batch 32 and batch 1: batch 1 reaches a low loss within the first epoch, batch 32 a few epochs later, full batch descends slowly."
linreg.plot_comparison(runs, kind="overlay", lang="en")

# %% [markdown]
# ## Loss against updates
#
# Per update the picture turns around. A full-batch step uses the exact gradient and goes
# straight downhill; a minibatch step uses a noisy estimate, so its loss jumps around. The
# smaller the batch, the noisier the path, and near the minimum the noise keeps the loss
# from settling completely (a smaller learning rate late in training would fix that).
# The runs differ up to 500-fold in length, so the update axis is logarithmic too.

# %% alt="Loss against update number, both axes logarithmic: the full-batch curve (5 updates) descends smoothly, batch 32 (80 updates) goes lower with some noise, batch 1 (2,500 updates) goes lowest and stays noisy near the bottom."
linreg.plot_comparison(runs, kind="overlay", per="update", xlog=True, lang="en")

# %% [markdown]
# So the trade is cheap, noisy steps against expensive, exact ones. On large data the
# cheap steps win by a wide margin, which is why nearly all deep learning trains on
# minibatches.
#
# ## DataLoader, and a faster way for tensors in memory
#
# PyTorch's standard tool for minibatches is `DataLoader(TensorDataset(x, y))`. It is
# general: it can read from disk, decode images and run worker processes. For tensors
# already in memory that generality has a price, because it fetches the rows of every
# batch one sample at a time. `linreg.minibatches` draws one random permutation per epoch
# and slices it, which gives the same kind of batches. One epoch over 100,000 rows, batch
# size 1,024, on the machine that built this page:

# %% tags=["varies"]
x_big, y_big = linreg.synthetic_data([2.0, -3.4], 4.2, n=100_000, seed=1)

start = time.perf_counter()
for x_batch, y_batch in DataLoader(
    TensorDataset(x_big, y_big), batch_size=1024, shuffle=True
):
    pass
dataloader_seconds = time.perf_counter() - start

start = time.perf_counter()
for x_batch, y_batch in linreg.minibatches(x_big, y_big, 1024):
    pass
minibatches_seconds = time.perf_counter() - start

print(f"DataLoader:         {dataloader_seconds:.3f} s")
print(f"linreg.minibatches: {minibatches_seconds:.4f} s")
print(f"speed-up:           {dataloader_seconds / minibatches_seconds:.0f}x")

# %% [markdown]
# Use `DataLoader` when the data does not fit in memory or needs per-sample work; for a
# tensor that is already there, index slicing is all you need.
#
# ## What to remember
#
# - One epoch is one pass over the data; with batch size $B$ it makes $\lceil N/B \rceil$
#   updates.
# - `reduction="mean"` keeps the gradient's scale independent of the batch size.
# - Minibatches win per epoch, full batch wins per update; small batches are noisy.
#
# Next: [pitfalls](06-pitfalls.md).
