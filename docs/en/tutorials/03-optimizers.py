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
# The lesson ends with homework: replace `SGD` by the other optimizers in `torch.optim`
# and compare the loss curves. This page does it twice.
#
# 1. **Same settings**, as the homework says: only the optimizer changes. Every one starts
#    from the same weights, with the lesson's summed loss, `lr=0.01` and 100 epochs.
# 2. **Sensible settings**: each optimizer with a learning rate that suits it.
#
# We also count how often each optimizer evaluates the loss, because an epoch does not
# cost the same for all of them.
#
# ## The homework in plain PyTorch
#
# Two things make the loop fair and the same for all twelve optimizers.
#
# - **The same start.** Build the model once from a seed and keep a copy of its weights.
#   Each optimizer trains a fresh model loaded from that copy; otherwise the second
#   optimizer would continue from where the first one stopped. The copy must be deep:
#   `state_dict()` hands back the model's own tensors, which training changes in place.
# - **A closure.** SGD's `step()` uses the gradients already stored in `.grad`. `LBFGS`
#   cannot: one of its steps runs up to `max_iter=20` inner iterations, and with a line
#   search it tries several step lengths along each direction. Every try needs the loss
#   and the gradient at a new point, so `step()` needs a function it can call whenever
#   it wants them: the *closure*, which zeroes the gradients, computes the loss, calls
#   `backward()` and returns the loss. Every optimizer in `torch.optim` accepts a closure
#   (the others call it once per step), so one loop serves all twelve, and counting the
#   closure's calls counts the loss evaluations.

# %%
import copy

import torch

import linreg

x, y = linreg.lesson_data()
criterion = torch.nn.MSELoss(reduction="sum")

torch.manual_seed(0)
model = linreg.LinearModel()
initial = copy.deepcopy(model.state_dict())


def homework(name, epochs=100, **settings):
    """Train a model from `initial` with torch.optim.<name>(**settings)."""
    model = linreg.LinearModel()
    model.load_state_dict(initial)
    optimizer = getattr(torch.optim, name)(model.parameters(), **settings)
    count = 0

    def closure():
        nonlocal count
        count += 1
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        return loss

    losses, evaluations = [], []
    for epoch in range(epochs):
        # each step's first evaluation measures that epoch's loss
        evaluations.append(count + 1)
        losses.append(optimizer.step(closure).item())
    # the loss at the final parameters, which training never needed: not counted
    with torch.no_grad():
        final = criterion(model(x), y).item()
    return {
        "losses": losses,
        "final": final,
        "evaluations": evaluations,
        "total": count,
        "model": model,
        "optimizer": optimizer,
    }


# %% [markdown]
# The homework: every optimizer with `lr=0.01`. The table shows the final loss (at the
# learned parameters), the learned $w$ and $b$ (the answer is $w = 2$, $b = 0$), the prediction at $x = 4$ (the
# answer is 8) and the number of loss evaluations in the 100 epochs:


# %%
def show(runs):
    print(
        "{:<10}{:>12}{:>9}{:>9}{:>9}{:>13}".format(
            "optimizer", "final loss", "w", "b", "ŷ(4)", "evaluations"
        )
    )
    for name, run in runs.items():
        w = run["model"].linear.weight.item()
        b = run["model"].linear.bias.item()
        print(
            "{:<10}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}{:>13}".format(
                name, run["final"], w, b, 4 * w + b, run["total"]
            )
        )


same = {name: homework(name, lr=0.01) for name in linreg.OPTIMIZERS}
show(same)

# %% [markdown]
# The loss curves on a logarithmic axis, against the epoch:

# %% alt="Twelve loss curves over 100 epochs at learning rate 0.01, logarithmic loss axis: Rprop and LBFGS fall below 1e-7, SGD and ASGD end near 0.15, RMSprop and RAdam near 1, the Adam family near 6 to 8, Adagrad and Adadelta stay above 30."
losses = {name: run["losses"] for name, run in same.items()}
linreg.plot_comparison(losses, kind="overlay", lang="en")

# %% [markdown]
# Per epoch, `LBFGS` looks as good as `Rprop`. But an epoch is one loss evaluation for
# the eleven others and many for LBFGS: at `lr=0.01` and without a line search, each of
# its inner iterations takes only 1% of the step its estimate of the curvature proposes,
# so a step keeps iterating until `max_iter`. Its table row counts eleven times as many
# evaluations as the others':

# %%
lbfgs = same["LBFGS"]["evaluations"] + [same["LBFGS"]["total"] + 1]
per_step = [after - before for before, after in zip(lbfgs, lbfgs[1:])]
print("LBFGS, evaluations in its first steps:", per_step[:5])
print("in all:", sum(per_step))

# %% [markdown]
# A plot per epoch flatters LBFGS; the sensible settings below plot the loss per
# evaluation. That cost comes from `lr=0.01`, not from LBFGS.
#
# ## Why they differ at `lr=0.01`
#
# The same settings are fair in a narrow sense: one thing changes. They are not fair to
# the optimizers, which were designed around other defaults. The installed torch's
# defaults:

# %%
import inspect

for name, optimizer_class in linreg.OPTIMIZERS.items():
    default = inspect.signature(optimizer_class).parameters["lr"].default
    print(f"{name:<9} lr={default}")
decay = inspect.signature(torch.optim.AdamW).parameters["weight_decay"].default
print("AdamW's default weight_decay:", decay)

# %% [markdown]
# `AdamW` is not run with Adam's settings either: by default it multiplies the weights by
# `1 - lr * weight_decay` at every step (weight decay), and Adam does not (exercise 4
# makes them equal).
#
# The first step of each optimizer, from the same start, shows how differently they treat
# the same gradient. Here $\partial L/\partial w$ starts at about $-50$:

# %%
model = linreg.LinearModel()
model.load_state_dict(initial)
criterion(model(x), y).backward()
g = model.linear.weight.grad
print(f"gradient of w at the start: {g.item():+.4f}")
w0 = initial["linear.weight"]
first_step = {}
for name in ["SGD", "RAdam", "Adam", "Adagrad", "RMSprop", "Adadelta"]:
    w1 = homework(name, epochs=1, lr=0.01)["model"].linear.weight.detach()
    first_step[name] = w1 - w0
    print(
        f"{name:<9} first step of w: {first_step[name].item():+.6f}"
        f" = {(first_step[name] / 0.01).item():7.3f} * lr"
    )

# %% [markdown]
# - **SGD** moves by `lr` times the gradient: $0.01 \times 49.77 \approx 0.50$.
# - **Adam** divides its average gradient by the root of its average squared gradient,
#   both corrected for starting at zero (bias correction). The first step is $\pm$`lr`
#   exactly, whatever the gradient's size, and later steps are at most about `lr`. $w$
#   has to travel about 2; 100 steps of 0.01 cannot get there. **AdamW**, **Adamax** and
#   **NAdam** share this behaviour.
# - **RAdam** does not trust its squared-gradient average while it rests on too few
#   steps, and meanwhile takes momentum steps of `lr` times the average gradient: the
#   same first step as SGD. That head start is why it ends far ahead of Adam.
# - **Adagrad** divides by the root of the *sum* of all squared gradients so far: its
#   first step is `lr` and the later ones shrink.
# - **RMSprop** moves 10 times `lr` at first. Not because its average "forgets fast":
#   it has no bias correction. Its average of squared gradients starts at 0, so after
#   one step it holds $v_1 = (1 - \alpha) g^2 = 0.01\,g^2$ with $\alpha = 0.99$, and the
#   step is $\mathrm{lr} \cdot g / \sqrt{0.01\,g^2} = 10 \cdot \mathrm{lr}$.
# - **Adadelta** barely moves, and raising `lr` to its default of 1 does not cure it
#   (see the table of learning rates below). Its step is
#   $\mathrm{lr} \cdot g \cdot \sqrt{u + \varepsilon} / \sqrt{v + \varepsilon}$, where
#   $u$, the average of its own squared updates, starts at 0. So the first step is about
#   $\mathrm{lr} \cdot \sqrt{\varepsilon} / \sqrt{0.1}$ with $\varepsilon = 10^{-6}$:
#   tiny, and $u$ grows only as fast as those tiny steps.
#
# Both rules, written out and checked against torch:

# %%
lr, alpha = 0.01, 0.99
v1 = (1 - alpha) * g**2
rmsprop = -lr * g / (v1.sqrt() + 1e-8)
print(
    f"RMSprop: v1 = {v1.item():.2f}, step by hand {rmsprop.item():+.6f}",
    torch.allclose(rmsprop, first_step["RMSprop"]),
)

rho, eps = 0.9, 1e-6
v1 = (1 - rho) * g**2
adadelta = -1.0 * g * (0 + eps) ** 0.5 / (v1 + eps).sqrt()
w1 = homework("Adadelta", epochs=1, lr=1.0)["model"].linear.weight.detach()
print(
    f"Adadelta at lr=1: step by hand {adadelta.item():+.6f}",
    torch.allclose(adadelta, w1 - w0),
)

beta2 = 0.999
rho_inf = 2 / (1 - beta2) - 1
rho_t = [rho_inf - 2 * t * beta2**t / (1 - beta2**t) for t in range(1, 11)]
momentum_steps = sum(r <= 5 for r in rho_t)
print(
    f"RAdam takes momentum steps while rho_t <= 5: steps 1 to {momentum_steps}"
)

# %% [markdown]
# - **Rprop** looks only at the *sign* of the gradient. Each parameter's step starts at
#   `lr` and grows by a factor 1.2 while the sign stays the same, so on this smooth
#   problem it accelerates quickly.
# - **SGD** follows the analysis of tutorial 2: fast along the steep direction, slow along
#   the flat one ([tutorial 4](04-loss-surface.md) draws the loss surface).
# - **ASGD** (averaged SGD) ends where SGD does, for three reasons. It starts averaging
#   only after `t0` steps, a million by default. The average it keeps, `ax`, lives in the
#   optimizer's state, not in the model: until step `t0` it is a copy of the weights, and
#   afterwards you would have to copy it into the model yourself. What remains is a tiny
#   weight decay, `lambd=1e-4` (each step multiplies the weights by about
#   $1 - \mathrm{lr} \cdot 10^{-4}$), and a learning rate that decays just as slightly:

# %%
asgd = same["ASGD"]
weight = asgd["model"].linear.weight.detach()
state = asgd["optimizer"].state[asgd["model"].linear.weight]
defaults = asgd["optimizer"].defaults
print(f"t0: {defaults['t0']:g}, lambd: {defaults['lambd']:g}")
print("ax equals the model's w:", torch.equal(state["ax"], weight))
sgd_weight = same["SGD"]["model"].linear.weight.detach()
print(f"ASGD's w minus SGD's w: {(weight - sgd_weight).item():+.2e}")

# %% [markdown]
# ## Sensible settings
#
# What learning rate suits each optimizer? Try four, a decade apart, for 100 epochs each,
# and keep the one with the lowest final loss:

# %%
import math

learning_rates = [0.001, 0.01, 0.1, 1.0]
print(
    f"{'optimizer':<10}"
    + "".join(f"{'lr=' + str(lr):>11}" for lr in learning_rates)
    + f"{'best lr':>9}"
)
settings, sensible = {}, {}
for name in linreg.OPTIMIZERS:
    if name == "LBFGS":
        continue
    runs = {lr: homework(name, lr=lr) for lr in learning_rates}
    finite = {
        lr: run for lr, run in runs.items() if math.isfinite(run["final"])
    }
    best = min(finite, key=lambda lr: finite[lr]["final"])
    settings[name], sensible[name] = {"lr": best}, finite[best]
    cells = [
        f"{run['final']:>11.2g}" if lr in finite else f"{'diverges':>11}"
        for lr, run in runs.items()
    ]
    print(f"{name:<10}" + "".join(cells) + f"{best:>9}")

# %% [markdown]
# SGD's best on this grid is the lesson's 0.01: at 0.1 it diverges. Adam, AdamW, Adamax
# and NAdam do best at 1, 500 to 1,000 times torch's defaults (RAdam at 0.1). Those
# defaults suit neural networks trained over many thousands of steps; here $w$ must
# travel about 2 in 100 steps of about `lr` each. Adadelta's best is its own default, 1,
# and it still crawls; Rprop's is its default, 0.01.
#
# `LBFGS` needs no such search: it keeps its default `lr=1` and gets a line search,
# `line_search_fn="strong_wolfe"`, which chooses the length of each step so that the
# loss falls enough and the slope flattens (the strong Wolfe conditions). On a quadratic
# loss its model of the curvature is soon exact:

# %%
settings["LBFGS"] = {"lr": 1, "line_search_fn": "strong_wolfe"}
sensible["LBFGS"] = homework("LBFGS", **settings["LBFGS"])
show(sensible)

# %% [markdown]
# The loss against the number of loss evaluations: the loss at evaluation $n$ is the one
# measured by the $n$-th call of the closure. The homework's `LBFGS` run at `lr=0.01` is
# drawn too, for comparison (both axes are logarithmic):

# %% alt="Loss against loss evaluations, both axes logarithmic, for each optimizer at its best setting and for LBFGS at lr=0.01. LBFGS with the line search drops below 1e-9 at evaluation 8; at lr=0.01 it ends near 1e-8 after about 1,100 evaluations. NAdam and Rprop end below 1e-7 at evaluation 100; the Adam family oscillates; Adadelta stays above 10."
runs = {**sensible, "LBFGS, lr=0.01": same["LBFGS"]}
losses = {name: run["losses"] for name, run in runs.items()}
evaluations = {name: run["evaluations"] for name, run in runs.items()}
linreg.plot_comparison(
    losses,
    kind="overlay",
    x_values=evaluations,
    xlog=True,
    xlabel="loss evaluations",
    lang="en",
)

# %% [markdown]
# With a line search, LBFGS's first step takes 7 evaluations and lands on the answer; each
# later epoch costs one evaluation, which finds the gradient already tiny and stops.
# Counted per evaluation it is the cheapest optimizer here by far. The Adam family at
# `lr=1` oscillates: the best of four coarse learning rates is a setting that works, not
# a tuned one.
#
# ## The shortcut: `linreg.compare`
#
# `linreg.compare` runs the same experiment in one call: it builds the model from the seed
# once and gives each optimizer its own copy, with its own settings (the `settings` found
# above). It does the same computation, so the numbers are not just close but identical:

# %%
runs = linreg.compare(settings, x, y, epochs=100, reduction="sum", seed=0)
identical = all(
    runs[name].losses == run["losses"]
    and runs[name].final_loss == run["final"]
    and torch.equal(runs[name].weight, run["model"].linear.weight.detach())
    and torch.equal(runs[name].bias, run["model"].linear.bias.detach())
    and runs[name].loss_evaluations == run["total"]
    for name, run in sensible.items()
)
print("linreg.compare gives the same losses, w, b and evaluations:", identical)
assert identical

# %% [markdown]
# From a terminal, `linreg compare --lr 0.01 --epochs 100 --plot compare.png` runs the
# same-settings experiment and saves the plot.
#
# ## What this does not tell you
#
# This problem has two parameters, an exactly quadratic loss and the full data in every
# step. That suits LBFGS and Rprop. The adaptive methods (Adam and its relatives) were
# built for the opposite case: millions of parameters whose gradients differ in scale,
# and noisy gradients from minibatches. Nothing here predicts how they compare there.
# LBFGS's line search, for its part, compares the loss at several points, which only
# makes sense if every evaluation sees the same data. [Tutorial 5](05-minibatches.md)
# introduces minibatches, with SGD.
#
# ## Exercises
#
# **1.** At its sensible setting, which optimizer first measures a loss below $10^{-6}$
# with the fewest loss evaluations, and after how many?

# %% [markdown] tags=["solution"]
# The loss at evaluation `evaluations[i]` is `losses[i]`: find the first one below
# $10^{-6}$ for each run.

# %% tags=["solution"]
reached = {}
for name, run in sensible.items():
    for loss, evaluation in zip(run["losses"], run["evaluations"]):
        if loss < 1e-6:
            reached[name] = evaluation
            break
for name, evaluation in sorted(reached.items(), key=lambda item: item[1]):
    print(f"{name:<8} loss < 1e-6 at evaluation {evaluation}")
winner = min(reached, key=reached.get)
print("fewest:", winner)
assert winner == "LBFGS" and reached["LBFGS"] == 8

# %% [markdown]
# **2.** RMSprop's first step is $10 \cdot$`lr` because $\alpha = 0.99$. Predict its
# first step for $\alpha = 0.9$ and $\alpha = 0.999$ at `lr=0.01`, then check with
# torch.

# %% [markdown] tags=["solution"]
# With $v_1 = (1 - \alpha) g^2$ the step is $\mathrm{lr} \cdot g / \sqrt{(1-\alpha) g^2}$,
# of size $\mathrm{lr} / \sqrt{1 - \alpha}$: about $3.16 \cdot$`lr` and
# $31.6 \cdot$`lr`. It moves $w$ against the gradient, which is negative here, so up.

# %% tags=["solution"]
for alpha in [0.9, 0.999]:
    predicted = 0.01 / (1 - alpha) ** 0.5
    run = homework("RMSprop", epochs=1, lr=0.01, alpha=alpha)
    step = (run["model"].linear.weight.detach() - w0).item()
    print(f"alpha={alpha}: predicted {predicted:+.5f}, torch {step:+.5f}")
    assert math.isclose(step, predicted, rel_tol=1e-5)

# %% [markdown]
# **3.** Run Adam with `lr=0.1`. After how many epochs (updates) is the loss below
# $10^{-3}$?

# %% [markdown] tags=["solution"]
# 100 epochs are not enough (the table of learning rates shows about 0.24 at 0.1), so
# run longer and find the first loss below $10^{-3}$: `losses[i]` is the loss after `i`
# updates.

# %% tags=["solution"]
adam = homework("Adam", epochs=500, lr=0.1)
epochs_needed = next(i for i, loss in enumerate(adam["losses"]) if loss < 1e-3)
print("Adam, lr=0.1: loss < 1e-3 after", epochs_needed, "epochs")
assert adam["losses"][epochs_needed - 1] >= 1e-3 > adam["losses"][epochs_needed]

# %% [markdown]
# **4.** Make `AdamW` give exactly Adam's numbers at `lr=0.01`.

# %% [markdown] tags=["solution"]
# The only default that differs is `weight_decay=0.01`. Turn it off and AdamW's update is
# Adam's, bit for bit, so `==` is the right test:

# %% tags=["solution"]
adam = homework("Adam", lr=0.01)
adamw = homework("AdamW", lr=0.01, weight_decay=0)
print("AdamW (default) equals Adam:", same["AdamW"]["losses"] == adam["losses"])
print("AdamW (weight_decay=0) equals Adam:", adamw["losses"] == adam["losses"])
assert adamw["losses"] == adam["losses"]
assert torch.equal(
    adamw["model"].linear.weight.detach(), adam["model"].linear.weight.detach()
)

# %% [markdown]
# **5.** SGD crawls along the flat direction. Keep `lr=0.01` and add momentum,
# `momentum=0.9` for example: how much lower is the loss after 100 epochs? Is more
# momentum always better?

# %% [markdown] tags=["solution"]
# Momentum adds up the steps that keep pointing the same way, as they do along the flat
# direction, so SGD speeds up there. Too much of it overshoots and swings back and forth:
# 0.9 ends over a hundred times lower than without momentum, 0.8 lower still, but 0.95
# ends higher than without.

# %% tags=["solution"]
plain = same["SGD"]["final"]
finals = {}
for momentum in [0.5, 0.8, 0.9, 0.95]:
    finals[momentum] = homework("SGD", lr=0.01, momentum=momentum)["final"]
    print(f"momentum={momentum}: final loss {finals[momentum]:.3g}")
print(f"without momentum: {plain:.3g}")
assert plain / finals[0.9] > 100 and finals[0.8] < finals[0.9]
assert finals[0.95] > plain

# %% [markdown]
# Next: [the loss surface](04-loss-surface.md).
