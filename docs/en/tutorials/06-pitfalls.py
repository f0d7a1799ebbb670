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
# Eight mistakes that learners make with this lesson, each one executed, with the message
# the installed torch really gives and the fix. Some of them raise an error right away;
# the dangerous ones only warn, or say nothing at all and compute a wrong number.

# %%
import torch

import linreg

x, y = linreg.lesson_data()
torch.manual_seed(0)
model = linreg.LinearModel()
criterion = torch.nn.MSELoss(reduction="sum")

# %% [markdown]
# ## 1. A typo in a name
#
# The original notes create `criterion` and then call `criterion1`. Python only finds out
# when that line runs:

# %% tags=["raises-exception"]
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
print(
    "loss with (3, 1) targets:",
    criterion(y_pred, y_flat.reshape(-1, 1)).item(),
)
print("loss with (3,) targets:  ", criterion(y_pred, y_flat).item())
print("shape of the difference: ", (y_pred - y_flat).shape)

# %% [markdown]
# torch only warns, and training on such a loss quietly learns the wrong line. `linreg`
# refuses and says how to fix it:

# %% tags=["raises-exception"]
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
# ## 5. `LBFGS` without a closure
#
# Most optimizers take a step from the gradients already stored in `.grad`. `LBFGS`
# evaluates the loss several times per step, so it needs a function that does it:

# %% tags=["raises-exception"]
optimizer = torch.optim.LBFGS(model.parameters())
loss = criterion(model(x), y)
loss.backward()
optimizer.step()

# %% [markdown]
# **Fix:** pass a closure that clears the gradients, computes the loss, calls `backward()`
# and returns the loss:


# %%
def closure():
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    return loss


for step in range(3):
    print(f"step {step}: loss {optimizer.step(closure).item():.6f}")

# %% [markdown]
# `linreg.train` detects optimizers that need a closure and builds one for you.
#
# ## 6. Integer tensors
#
# `torch.tensor([[1], [2], [3]])` holds integers (`int64`), because the numbers were
# written without a decimal point. `nn.Linear`'s weights are `float32`, and the two do not
# mix:

# %% tags=["raises-exception"]
x_int = torch.tensor([[1], [2], [3]])
print(x_int.dtype)
model(x_int)

# %% [markdown]
# **Fix:** write `1.0, 2.0, 3.0`, or convert with `x_int.float()`. (The lesson's
# `torch.Tensor([[1], [2], [3]])`, with a capital T, always makes a tensor of the default
# floating type, `float32` unless you changed it, which is why it worked there;
# `torch.tensor` with a lowercase t infers the type from the data.)
#
# ## 7. `.data` instead of `torch.no_grad()` or `.item()`
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
# With `.detach()` the same change is caught, because autograd checks the tensor's version
# counter:

# %% tags=["raises-exception"]
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = a.sigmoid()
b.detach().zero_()
b.sum().backward()

# %% [markdown]
# **Fix:** to predict, run the model inside `torch.no_grad()` (no history is recorded at
# all); to get a Python number, use `.item()`; to cut a tensor from its history, use
# `.detach()`:

# %%
with torch.no_grad():
    y_test = model(torch.tensor([[4.0]]))
print(y_test, y_test.requires_grad, y_test.item())

# %% [markdown]
# ## 8. A learning rate above the stable bound
#
# Tutorial 2 showed that full-batch gradient descent on this loss converges only for
# learning rates below $2/\lambda_{\max}$. Just above it, the loss grows every epoch:

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
# `linreg solve` from a terminal), or use `reduction="mean"`, which divides the gradient by $N$.
#
# That is the whole lesson. To see everything `linreg` offers, read the
# [API reference](../reference/index.md) — or go back to the [tutorials](index.md).
