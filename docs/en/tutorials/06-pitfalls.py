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
# # Pitfalls
#
# Eleven mistakes that learners make with this lesson, each one executed, with the message
# the installed torch really gives and the fix. Some of them raise an error right away;
# the dangerous ones only warn, or say nothing at all and compute a wrong number.
#
# Every pitfall that needs a model builds a fresh one from the same seed, so none of them
# depends on what an earlier one did. The data and the loss are the lesson's:

# %%
import torch

import linreg

x, y = linreg.lesson_data()  # (3, 1) each: y = 2x
criterion = torch.nn.MSELoss(reduction="sum")

# %% [markdown]
# ## 1. A typo in a name
#
# The original notes create `criterion` and then call `criterion1`. Python only finds out
# when that line runs:

# %% tags=["raises-exception"]
torch.manual_seed(0)
model = linreg.LinearModel()
loss = criterion1(model(x), y)

# %% [markdown]
# **Fix:** call the object you created, `criterion(model(x), y)`. Running a notebook from
# top to bottom after a restart catches such leftovers before anyone else does.
#
# ## 2. The deprecated `size_average`
#
# `size_average` and `reduce` are the loss arguments of old torch versions. They still
# work, with a warning, and they override `reduction` if you pass both:

# %% tags=["warns"]
criterion_old = torch.nn.MSELoss(size_average=False, reduction="mean")

# %%
print("reduction actually used:", criterion_old.reduction)

# %% [markdown]
# **Fix:** write only `reduction`: `"sum"` for `size_average=False`, `"mean"` for the
# default, `"none"` for `reduce=False`.
#
# ## 3. Targets of shape `(N,)` instead of `(N, 1)`
#
# The model returns predictions of shape `(3, 1)`. If the targets are a flat tensor of
# shape `(3,)`, the subtraction inside the loss *broadcasts* the two to `(3, 3)`: every
# prediction is compared with every target. Here the predictions are perfect, yet the loss
# is not zero:

# %% tags=["warns"]
y_pred = torch.tensor([[2.0], [4.0], [6.0]])  # (3, 1), exactly right
y_flat = torch.tensor([2.0, 4.0, 6.0])  # (3,)
loss_flat = criterion(y_pred, y_flat)

# %%
print("loss with (3, 1) targets:", criterion(y_pred, y_flat.reshape(-1, 1)).item())
print("loss with (3,) targets:  ", loss_flat.item())
print("shape of the difference: ", (y_pred - y_flat).shape)

# %% [markdown]
# torch only warns, once, and training on such a loss quietly learns the wrong line. Which
# one? Each prediction $\hat{y}_i$ is pulled towards *all three* targets at once, and the
# number closest to 2, 4 and 6 together is their mean, $\bar{y} = 4$. A line can predict
# 4 for every $x$: slope $w = 0$, intercept $b = 4$. Train the lesson's model on the flat
# targets and that is what it finds:

# %% tags=["warns"]
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(1000):
    loss = criterion(model(x), y_flat)  # (3, 1) against (3,): a (3, 3) loss
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

# %%
w, b = model.linear.weight.item(), model.linear.bias.item()
print(f"learned: w = {w:.4f}, b = {b:.4f}")
print(f"mean of the targets: {y_flat.mean().item():.4f}")
print(f"loss it cannot get below: {loss.item():.4f}")

# %% [markdown]
# A flat line at $\bar{y}$, whatever $x$ is. The loss stops at 24, the spread of the
# targets around their mean (8) counted once for each of the three predictions. `linreg`
# refuses such targets and says how to fix them:

# %% tags=["raises-exception"]
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
linreg.train(model, x, y_flat, criterion, optimizer, epochs=100)

# %% [markdown]
# **Fix:** keep targets two-dimensional, `y.reshape(-1, 1)` (or `y.unsqueeze(1)`).
#
# ## 4. Forgetting `zero_grad()`
#
# `backward()` *adds* to `.grad`. Two backward passes without clearing give twice the
# gradient:

# %%
w = torch.tensor(1.0, requires_grad=True)
(3 * w).backward()
print("after one backward:", w.grad.item())
(3 * w).backward()
print("after two backward:", w.grad.item())
w.grad.zero_()
print("after zero_():     ", w.grad.item())

# %% [markdown]
# In a training loop this turns every step into the sum of all earlier gradients;
# [tutorial 2](02-pytorch-lesson.md) shows the loss swinging up and down because of it.
# **Fix:** call `optimizer.zero_grad()` once per step, before `loss.backward()`.
#
# ## 5. Updating a parameter in place, with autograd watching
#
# [Tutorial 1](01-gradient-descent.md) updates plain Python numbers by hand, `w -= lr * grad`.
# The same line on a tensor that requires a gradient, with `w.grad` from autograd, looks
# just as harmless. But such a `w` is a *leaf* of the graph, and autograd refuses to
# record an in-place change to it:

# %% tags=["raises-exception"]
w = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
loss = ((w * x + b - y) ** 2).sum()
loss.backward()
w -= 0.01 * w.grad

# %% [markdown]
# **Fix:** the update is not part of the model, so make it where autograd records nothing,
# inside `torch.no_grad()`; then clear the gradients yourself:

# %%
w = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
for epoch in range(1000):
    loss = ((w * x + b - y) ** 2).sum()
    loss.backward()
    with torch.no_grad():  # an update, not a computation to differentiate
        w -= 0.01 * w.grad
        b -= 0.01 * b.grad
    w.grad.zero_()
    b.grad.zero_()
print(f"w = {w.item():.4f}, b = {b.item():.4f}")

# %% [markdown]
# (`w = w - 0.01 * w.grad` also runs, but it makes `w` a new tensor computed from the old
# one: no longer a leaf, so `backward()` leaves its `.grad` empty from then on.)
# `optimizer.step()` does exactly this update under `torch.no_grad()` for you.
#
# ## 6. `backward()` twice through the same graph
#
# Computing the predictions once, before the loop, looks like a saving. But each
# `backward()` frees the intermediate values its graph saved, and the next epoch's loss is
# built on the same `y_pred`, so on the same, already freed graph:

# %% tags=["raises-exception"]
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
y_pred = model(x)  # once, outside the loop
for epoch in range(3):
    loss = criterion(y_pred, y)
    print(f"epoch {epoch}  loss {loss.item():.4f}")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

# %% [markdown]
# The message suggests `retain_graph=True`. It silences the error, and shows why it is not
# the fix here: `y_pred` was computed from the first weights and is never recomputed, so
# every epoch repeats the same loss and takes the same stale step.

# %%
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
y_pred = model(x)
for epoch in range(3):
    loss = criterion(y_pred, y)
    optimizer.zero_grad()
    loss.backward(retain_graph=True)
    optimizer.step()
    w = model.linear.weight.item()
    print(f"epoch {epoch}  loss {loss.item():.4f}  w after the step {w:.4f}")

# %% [markdown]
# **Fix:** run the forward pass inside the loop, every step, as the lesson does: each
# `backward()` then goes through a new graph. Keep `retain_graph=True` for the rare case
# that truly needs two backward passes through one graph (two losses sharing a part, for
# instance).
#
# ## 7. Logging `loss` instead of `loss.item()`
#
# `losses.append(loss)` stores the tensor, and with it the `grad_fn` that points to the
# whole graph that computed it. Nothing fails; the graphs just pile up, one per epoch. We
# can count them: walk from each stored loss through `grad_fn` and `next_functions`, and
# count the autograd nodes, and the tensors they still hold in their `_saved_*`
# attributes.


# %%
def graph_size(logged):
    """Autograd nodes reachable from the logged values, and tensors those nodes saved."""
    seen = set()
    stack = [v.grad_fn for v in logged if isinstance(v, torch.Tensor)]
    saved = 0
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(parent for parent, _ in node.next_functions)
        for name in dir(node):
            if name.startswith("_saved_"):
                try:
                    saved += isinstance(getattr(node, name), torch.Tensor)
                except RuntimeError:  # freed by backward()
                    pass
    return len(seen), saved


def train_and_log(epochs, log, backward=True):
    torch.manual_seed(0)
    model = linreg.LinearModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    logged = []
    for epoch in range(epochs):
        loss = criterion(model(x), y)
        logged.append(log(loss))
        if backward:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return logged


rows = [
    ("loss", 10, train_and_log(10, lambda loss: loss)),
    ("loss", 100, train_and_log(100, lambda loss: loss)),
    ("loss.item()", 100, train_and_log(100, lambda loss: loss.item())),
    ("loss, no backward", 100, train_and_log(100, lambda loss: loss, backward=False)),
]
print(f"{'epochs':>6}{'nodes kept':>12}{'saved tensors':>15}  logged")
for what, epochs, logged in rows:
    nodes, saved = graph_size(logged)
    print(f"{epochs:>6}{nodes:>12}{saved:>15}  {what}")

# %% [markdown]
# Three new nodes per epoch (the loss, the matrix product, the transposed weight), plus
# the two shared leaves of the weight and the bias. `backward()` has freed what each graph
# saved, so in the training loop it is the nodes themselves that accumulate. A loss that
# is never backpropagated, such as a test loss computed for the log outside
# `torch.no_grad()`, keeps its saved tensors as well (the last row): in a real network
# those are its activations, and memory grows every epoch until it runs out.
#
# **Fix:** log a number, `loss.item()`, as the lesson does (or `loss.detach()` to keep a
# tensor without its history).
#
# ## 8. `LBFGS` without a closure
#
# Most optimizers take a step from the gradients already stored in `.grad`. `LBFGS`
# evaluates the loss several times per step, so it needs a function that does it:

# %% tags=["raises-exception"]
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.LBFGS(model.parameters())
loss = criterion(model(x), y)
loss.backward()
optimizer.step()

# %% [markdown]
# **Fix:** pass a closure that clears the gradients, computes the loss, calls `backward()`
# and returns the loss. Mind what `step(closure)` returns: the closure's *first*
# evaluation, the loss **before** the step. To see where the step got to, evaluate the
# loss again:


# %%
def closure():
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    return loss


torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.LBFGS(model.parameters())
for step in range(3):
    before = optimizer.step(closure).item()
    with torch.no_grad():
        after = criterion(model(x), y).item()
    print(f"step {step}: step() returned {before:.6f}, loss after the step {after:.6f}")

# %% [markdown]
# One `LBFGS` step runs up to `max_iter=20` iterations, enough to land on the minimum of
# this quadratic loss; the value `step()` returned was still the starting loss.
# `linreg.train` detects optimizers that need a closure and builds one for you.
#
# ## 9. Integer tensors
#
# `torch.tensor([[1], [2], [3]])` holds integers (`int64`), because the numbers were
# written without a decimal point. `nn.Linear`'s weights are `float32`, and the two do not
# mix:

# %% tags=["raises-exception"]
torch.manual_seed(0)
model = linreg.LinearModel()
x_int = torch.tensor([[1], [2], [3]])
print(x_int.dtype)
model(x_int)

# %% [markdown]
# **Fix:** write `1.0, 2.0, 3.0`, or convert with `x_int.float()`. (The lesson's
# `torch.Tensor([[1], [2], [3]])`, with a capital T, always makes a tensor of the default
# floating type, `float32` unless you changed it, which is why it worked there;
# `torch.tensor` with a lowercase t infers the type from the data.)
#
# ## 10. `.data` instead of `torch.no_grad()` or `.item()`
#
# The lesson prints predictions with `y_test.data`. `.data` is an old way to get a tensor
# without its gradient history, and it has a trap: changes made through it are invisible
# to autograd. Here `b.data` is zeroed after `sigmoid`, whose backward pass needs its own
# output; the gradient silently comes out wrong:

# %%
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = a.sigmoid()
b.data.zero_()  # autograd is not told
b.sum().backward()
print("gradient after changing .data:", a.grad)

# %% [markdown]
# The right gradient, $\sigma(a)(1 - \sigma(a))$, is not zero anywhere. With `.detach()`
# the same change is caught, because autograd checks the tensor's version counter:

# %% tags=["raises-exception"]
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = a.sigmoid()
b.detach().zero_()
b.sum().backward()

# %% [markdown]
# **Fix:** to predict, run the model inside `torch.no_grad()` (no history is recorded at
# all); to get a Python number, use `.item()`; to cut a tensor from its history, use
# `.detach()`. Here with a model trained for 1000 epochs:

# %%
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
linreg.train(model, x, y, criterion, optimizer, epochs=1000)
with torch.no_grad():
    y_test = model(torch.tensor([[4.0]]))
print(y_test, y_test.requires_grad, f"{y_test.item():.4f}")

# %% [markdown]
# ## 11. A learning rate above the stable bound
#
# [Tutorial 2](02-pytorch-lesson.md) showed that full-batch gradient descent on this loss
# converges only for learning rates below $2/\lambda_{\mathrm{max}}$. Just above it, the loss
# grows every epoch:

# %%
bound = linreg.stable_lr(x, "sum")
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=1.2 * bound)
for epoch in range(8):
    loss = criterion(model(x), y)
    print(f"epoch {epoch}  loss {loss.item():12.2f}")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

# %% [markdown]
# Left alone, it overflows to `inf` and then `nan`, and every later number is meaningless.
# `linreg.train` stops at the first non-finite loss and tells you what to change:

# %% tags=["raises-exception"]
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=1.2 * bound)
linreg.train(model, x, y, criterion, optimizer, epochs=1000)

# %% [markdown]
# **Fix:** lower the learning rate below the bound (`linreg.stable_lr(x, "sum")`, or
# `linreg solve` from a terminal), or use `reduction="mean"`, which divides the gradient by
# $N$. [Tutorial 4](04-loss-surface.md#around-the-bound) shows where the bound comes from on the loss
# surface.
#
# ## Exercises
#
# Each solution is folded away; try first, then open it.
#
# **1.** Predictions `[[1.0], [2.0], [3.0]]` (shape `(3, 1)`) meet targets
# `[1.0, 2.0, 3.0]` (shape `(3,)`). The predictions are perfect. What does
# `MSELoss()` (the default, `reduction="mean"`) return? Work it out by hand first.

# %% [markdown] tags=["solution"]
# Broadcasting compares every prediction with every target: a $3 \times 3$ table of
# differences $\hat{y}_i - y_j$. Its squares are 0, 1, 4 in the first row, 1, 0, 1 in the
# second, 4, 1, 0 in the third: 12 in all, and the mean divides by the 9 elements. The
# same table in code, with the explicit broadcast `MSELoss` performs:

# %% tags=["solution"]
predictions = [1.0, 2.0, 3.0]
by_hand = sum((p - t) ** 2 for p in predictions for t in predictions) / 9
y_pred = torch.tensor([[1.0], [2.0], [3.0]])  # (3, 1)
y_flat = torch.tensor([1.0, 2.0, 3.0])  # (3,)
broadcast = ((y_pred - y_flat) ** 2).mean()  # (3, 1) - (3,) -> (3, 3)
print(f"by hand: {by_hand:.4f}   broadcast in torch: {broadcast.item():.4f}")
assert abs(broadcast.item() - by_hand) < 1e-6

# %% [markdown]
# **2.** Find the bug in this loop. It runs without an error or a warning; what does it
# print, and why?
#
# ```python
# for epoch in range(100):
#     loss = criterion(model(x), y)
#     loss.backward()
#     optimizer.zero_grad()
#     optimizer.step()
# ```

# %% [markdown] tags=["solution"]
# `zero_grad()` comes between `backward()` and `step()`, so it clears the gradient just
# computed: `step()` finds no gradient (`zero_grad()` sets `.grad` to `None`) and leaves
# the parameters alone. The loss never changes. Run it, then move `zero_grad()` before
# `backward()`:

# %% tags=["solution"]
def run(zero_grad_first):
    torch.manual_seed(0)
    model = linreg.LinearModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    start = [p.detach().clone() for p in model.parameters()]
    losses = []
    for epoch in range(100):
        loss = criterion(model(x), y)
        losses.append(loss.item())
        if zero_grad_first:
            optimizer.zero_grad()
        loss.backward()
        if not zero_grad_first:
            optimizer.zero_grad()  # the bug: the fresh gradient is thrown away
        optimizer.step()
    moved = any(not torch.equal(p, p0) for p, p0 in zip(model.parameters(), start))
    return losses, moved


buggy, moved_buggy = run(zero_grad_first=False)
fixed, moved_fixed = run(zero_grad_first=True)
print(f"buggy: loss {buggy[0]:.4f} -> {buggy[-1]:.4f}, parameters moved: {moved_buggy}")
print(f"fixed: loss {fixed[0]:.4f} -> {fixed[-1]:.4f}, parameters moved: {moved_fixed}")
assert buggy[0] == buggy[-1] and not moved_buggy
assert fixed[-1] < fixed[0]

# %% [markdown] tags=["solution"]
# (`torch.equal` is the right test here: a parameter that was not updated keeps exactly
# the same bits.)

# %% [markdown]
# **3.** The data are now $x = 1, 2, 3, 4$ and $y = 3x + 1$, and the targets are passed
# flat, with shape `(4,)`. Which line does the model learn? Answer first, then train with
# the broadcast loss to check.

# %% [markdown] tags=["solution"]
# With $\hat{y}_i = wx_i + b$ compared with every $y_j$, the mean loss splits into two
# parts, because the cross terms around the mean $\bar{y}$ cancel:
#
# $$\frac{1}{N^2}\sum_{i,j}(\hat{y}_i - y_j)^2
#   = \frac{1}{N}\sum_i(\hat{y}_i - \bar{y})^2 + \frac{1}{N}\sum_j(y_j - \bar{y})^2 .$$
#
# Only the first part depends on $w$ and $b$, and it is zero for the flat line
# $\hat{y} = \bar{y}$: $w = 0$, $b = \bar{y} = 8.5$, whatever the true slope is.

# %% tags=["solution"]
x4 = torch.tensor([[1.0], [2.0], [3.0], [4.0]])  # (4, 1)
y4_flat = 3 * x4.flatten() + 1  # (4,): the mistake
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(1000):
    loss = ((model(x4) - y4_flat) ** 2).mean()  # what MSELoss() broadcasts to: (4, 4)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
w, b = model.linear.weight.item(), model.linear.bias.item()
print(f"learned: w = {w:.4f}, b = {b:.4f};  mean of y: {y4_flat.mean().item():.4f}")
assert abs(w) < 1e-4 and abs(b - y4_flat.mean().item()) < 1e-4

# %% [markdown]
# **4.** Replace `optimizer.step()` and `optimizer.zero_grad()` in the lesson's loop by
# your own update of the model's parameters (pitfall 5 shows how), and check that after
# 100 epochs you get the same weight and bias as `torch.optim.SGD(lr=0.01)`.

# %% [markdown] tags=["solution"]
# The update is $\theta \leftarrow \theta - 0.01\,\partial L/\partial\theta$ for every
# parameter, made under `torch.no_grad()`, and the gradient is cleared by hand:

# %% tags=["solution"]
torch.manual_seed(0)
model = linreg.LinearModel()
for epoch in range(100):
    loss = criterion(model(x), y)
    loss.backward()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter -= 0.01 * parameter.grad
            parameter.grad = None
by_hand = torch.cat([p.detach().flatten() for p in model.parameters()])

torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
linreg.train(model, x, y, criterion, optimizer, epochs=100)
with_sgd = torch.cat([p.detach().flatten() for p in model.parameters()])
print("by hand (w, b):", [round(v, 6) for v in by_hand.tolist()])
print("SGD     (w, b):", [round(v, 6) for v in with_sgd.tolist()])
print("allclose:", torch.allclose(by_hand, with_sgd))
assert torch.allclose(by_hand, with_sgd)

# %% [markdown]
# That is the whole lesson. One step beyond it, [tutorial 7](07-data-parallel.md) runs the
# same loop on several processes at once. Keep the [summary](summary.md) open while you
# write your own loops; to see everything `linreg` offers, read the
# [API reference](../reference/index.md), or go back to the [tutorials](index.md).
