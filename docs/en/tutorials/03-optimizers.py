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
# # Homework: comparing optimizers
#
# The lesson ends with an exercise: replace `SGD` by the other optimizers in
# `torch.optim` and compare the loss curves. A comparison is only fair if one thing
# changes at a time, so every optimizer here starts from the *same* initial weights, sees
# the same data, uses the same loss (`reduction="sum"`) and the same learning rate,
# `lr=0.01`, for 100 epochs.
#
# `linreg.compare` does exactly that: it initialises one model from a seed and gives every
# optimizer its own copy of those weights.

# %%
import torch

import linreg

x, y = linreg.lesson_data()
print("optimizers:", ", ".join(linreg.OPTIMIZERS))

runs = linreg.compare(
    list(linreg.OPTIMIZERS), x, y, epochs=100, lr=0.01, reduction="sum", seed=0
)
print(
    "same start for all:", len({run.losses[0] for run in runs.values()}) == 1
)

# %% [markdown]
# `LBFGS` is the odd one out: its `step()` needs a *closure*, a function that recomputes
# the loss and its gradient, because it evaluates the loss several times per step.
# `linreg.train` notices that and passes one; by hand it looks like this:
#
# ```python
# def closure():
#     optimizer.zero_grad()
#     loss = criterion(model(x), y)
#     loss.backward()
#     return loss
#
# optimizer.step(closure)
# ```
#
# ## The loss curves
#
# One small plot per optimizer, each with its own scale:

# %% alt="A grid of twelve small loss curves, one per optimizer, each over 100 epochs at learning rate 0.01."
linreg.plot_comparison(runs, kind="grid", lang="en")

# %% [markdown]
# The same curves on one plot with a logarithmic loss axis, which makes the differences of
# many orders of magnitude visible:

# %% alt="All twelve loss curves on one plot with a logarithmic loss axis: Rprop and LBFGS fall far below the others, SGD and ASGD end near 0.15, and Adagrad and Adadelta hardly move."
linreg.plot_comparison(runs, kind="overlay", lang="en")

# %% [markdown]
# ## The results
#
# The final loss, the learned $w$ and $b$ (the answer is $w = 2$, $b = 0$), the prediction
# at $x = 4$ (the answer is 8), and how many times each optimizer evaluated the loss:

# %%
header = ["optimizer", "final loss", "w", "b", "ŷ(4)", "evaluations"]
print("{:<10}{:>12}{:>9}{:>9}{:>9}{:>13}".format(*header))
for name, run in runs.items():
    w, b = run.weight.item(), run.bias.item()
    row = [name, run.final_loss, w, b, 4 * w + b, run.loss_evaluations]
    print("{:<10}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}{:>13}".format(*row))

# %% [markdown]
# ## Why the Adam family crawls at `lr=0.01`
#
# SGD moves each parameter by `lr` times its gradient. With the summed loss the gradients
# here start large, so even `lr=0.01` makes big first steps.
#
# Adam, and its relatives AdamW, Adamax, NAdam and RAdam, divide the gradient by a running
# estimate of its own size. The result is a step of roughly `lr` per parameter *whatever
# the gradient's size*: 0.01 per epoch, so at most about 1 in 100 epochs. Look at the
# first step of each from the same start:

# %%
for name in ["SGD", "Adam", "Adagrad", "RMSprop"]:
    torch.manual_seed(0)
    model = linreg.LinearModel()
    start = model.linear.weight.item()
    optimizer = linreg.make_optimizer(name, model.parameters(), lr=0.01)
    linreg.train(
        model, x, y, linreg.make_criterion("sum"), optimizer, epochs=1
    )
    step = model.linear.weight.item() - start
    print(f"{name:<8} first step moves w by {step:+.4f}")

# %% [markdown]
# Each optimizer was designed around its own default learning rate. These are the
# defaults of the torch that built this page:

# %%
import inspect

for name, optimizer_class in linreg.OPTIMIZERS.items():
    default_lr = inspect.signature(optimizer_class).parameters["lr"].default
    print(f"{name:<9} lr={default_lr}")

# %% [markdown]
# - **Adam, AdamW, Adamax and NAdam** move $w$ by about `lr` per step, and $w$ has to travel
#   about 2. With 100 steps of 0.01 they cannot get there.
# - **RAdam** is Adam with a "rectified" start: while its estimate of the gradient's size
#   is still unreliable, it takes plain momentum steps, which here are large. That early
#   head start is why it ends far ahead of Adam.
# - **Adagrad** divides by the square root of the *sum* of all past squared gradients, so
#   its steps keep shrinking: it is even slower.
# - **Adadelta** is meant to run near its default learning rate; at 0.01 its steps are tiny.
# - **RMSprop** normalises too, but its running average forgets fast and its first step is
#   larger than Adam's.
# - **Rprop** uses only the *sign* of the gradient and grows each step size by a factor
#   while the sign stays the same, so it accelerates quickly on this smooth problem.
# - **LBFGS** builds a model of the curvature, which for a quadratic loss is nearly exact;
#   it reaches the minimum, but look at its evaluation count: many loss evaluations per
#   step.
# - **SGD** follows the analysis of tutorial 2: fast along the steep direction, slow along
#   the flat one. **ASGD** (averaged SGD) ends almost exactly where SGD does.
#
# ## Other learning rates
#
# The learning rate is not a neutral setting: each optimizer has its own useful range.
# Here is the final loss after 100 epochs for a few learning rates. SGD diverges above
# its stable bound, so it is only run below it.

# %%
bound = linreg.stable_lr(x, "sum")
print(f"stable bound for SGD: {bound:.4f}\n")
learning_rates = [0.01, 0.05, 0.1, 0.5]
print(
    f"{'optimizer':<10}"
    + "".join(f"{'lr=' + str(lr):>12}" for lr in learning_rates)
)
for name in ["SGD", "Adam", "RMSprop", "Adagrad", "Rprop"]:
    row = f"{name:<10}"
    for lr in learning_rates:
        if name == "SGD" and lr >= bound:
            row += f"{'diverges':>12}"
            continue
        run = linreg.compare({name: {"lr": lr}}, x, y, epochs=100)[name]
        row += f"{run.final_loss:>12.3g}"
    print(row)

# %% [markdown]
# With a larger `lr`, Adam and RMSprop catch up, and Adagrad becomes useful too; SGD is
# capped by the bound. No optimizer is "best" in general: on a tiny, perfectly quadratic
# problem like this one, second-order information (LBFGS) or sign-based steps (Rprop) win
# easily; on large noisy problems with minibatches (tutorial 4), the adaptive methods
# earn their reputation.
#
# ## Try it yourself
#
# The same comparison runs from a terminal and writes the plot:
#
# ```bash
# linreg compare --lr 0.01 --epochs 100 --plot compare.png
# ```
#
# Next: [minibatches](05-minibatches.md).
