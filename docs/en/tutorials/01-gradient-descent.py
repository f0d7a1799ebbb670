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
# # Linear regression and gradient descent, by hand
#
# Before PyTorch does the work for us, we do it ourselves once: write down the model and
# the loss, derive the gradient with pen and paper, take one step of gradient descent with
# plain tensor arithmetic, and check that autograd gets exactly the same numbers.
#
# ## The data and the model
#
# The lesson uses three points that lie on the line $y = 2x$:
#
# | *x* | 1 | 2 | 3 |
# |-----|---|---|---|
# | *y* | 2 | 4 | 6 |
#
# A linear model predicts $\hat{y} = w x + b$ with a **weight** $w$ and a **bias** $b$.
# Training means finding the $w$ and $b$ that make the predictions close to $y$.
# `linreg.lesson_data()` returns these points as tensors of shape `(3, 1)`:
# one row per sample, one column per feature.

# %%
import torch

import linreg

x, y = linreg.lesson_data()
print(x.shape, y.shape)
print(torch.cat([x, y], dim=1))

# %% [markdown]
# ## The loss
#
# To measure "close", the lesson adds up the squared errors over the $N = 3$ samples:
#
# $$
# L(w, b) = \sum_{i=1}^{N} \left(w x_i + b - y_i\right)^2
# $$
#
# This is the **mean squared error** without the division by $N$ (PyTorch calls it
# `reduction='sum'`). Dividing by $N$ would not move the minimum, only scale the loss
# and its gradient; tutorial 2 comes back to what that does to the learning rate.
#
# We start from $w = 0.5$, $b = 0$ and compute the loss by hand:

# %%
w, b = 0.5, 0.0
y_pred = w * x + b  # (3, 1)
loss = ((y_pred - y) ** 2).sum()
print(f"loss = {loss.item():.4f}")

# %% [markdown]
# ## The gradient, derived
#
# The chain rule gives the two partial derivatives. Each squared error
# $(w x_i + b - y_i)^2$ contributes twice the error times the derivative of the inside:
#
# $$
# \frac{\partial L}{\partial w} = \sum_{i=1}^{N} 2 x_i \left(w x_i + b - y_i\right),
# \qquad
# \frac{\partial L}{\partial b} = \sum_{i=1}^{N} 2 \left(w x_i + b - y_i\right)
# $$
#
# Both are negative here: the predictions are too small, so increasing $w$ or $b$
# lowers the loss.

# %%
error = y_pred - y  # (3, 1)
grad_w = (2 * x * error).sum()
grad_b = (2 * error).sum()
print(f"dL/dw = {grad_w.item():.4f}, dL/db = {grad_b.item():.4f}")

# %% [markdown]
# ## Autograd computes the same gradient
#
# Now let PyTorch differentiate. We mark `w` and `b` as tensors that need gradients,
# compute the same loss, and call `backward()`. Autograd records every operation of the
# forward pass and applies the chain rule backwards through them; the results land in
# `w.grad` and `b.grad`.

# %%
w_t = torch.tensor(0.5, requires_grad=True)
b_t = torch.tensor(0.0, requires_grad=True)
loss_t = ((w_t * x + b_t - y) ** 2).sum()
loss_t.backward()
print(
    f"autograd: dL/dw = {w_t.grad.item():.4f}, dL/db = {b_t.grad.item():.4f}"
)
print(
    "same as by hand:",
    torch.equal(w_t.grad, grad_w),
    torch.equal(b_t.grad, grad_b),
)

# %% [markdown]
# ## One step of gradient descent
#
# The gradient points uphill, so we step the other way, scaled by the **learning rate**
# $\alpha$:
#
# $$
# w \leftarrow w - \alpha \frac{\partial L}{\partial w},
# \qquad
# b \leftarrow b - \alpha \frac{\partial L}{\partial b}
# $$
#
# With $\alpha = 0.01$, as in the lesson, one step lowers the loss noticeably:

# %%
lr = 0.01
w_new = w - lr * grad_w.item()
b_new = b - lr * grad_b.item()
loss_new = ((w_new * x + b_new - y) ** 2).sum()
print(f"w: {w} -> {w_new:.4f}   b: {b} -> {b_new:.4f}")
print(f"loss: {loss.item():.4f} -> {loss_new.item():.4f}")

# %% [markdown]
# ## Many steps
#
# Repeating the step is the whole algorithm. Each pass over the data is one **epoch**;
# with all three points in every step this is *full-batch* gradient descent.

# %%
w, b = 0.5, 0.0
losses = []
for epoch in range(100):
    error = w * x + b - y
    losses.append((error**2).sum().item())
    w -= lr * (2 * x * error).sum().item()
    b -= lr * (2 * error).sum().item()

print(f"after 100 epochs: w = {w:.4f}, b = {b:.4f}, loss = {losses[-1]:.6f}")

# %% alt="Loss against epoch for 100 epochs of gradient descent by hand: it falls steeply in the first few epochs, then slowly."
linreg.plot_loss(losses, title="lr = 0.01", lang="en")

# %% [markdown]
# The loss drops fast at first and then slowly. After 100 epochs $w$ and $b$ are close to
# 2 and 0, but not there yet: tutorial 2 explains why the last stretch is slow.
#
# ## The closed-form answer
#
# For linear regression we do not need to iterate at all: setting both partial
# derivatives to zero gives a linear system (the *normal equations*) whose solution is
# the exact minimum. `linreg.fit_closed_form` solves the same least-squares problem with
# `torch.linalg.lstsq`, and its answer is the reference every training run on this site
# is compared with.

# %%
w_star, b_star = linreg.fit_closed_form(x, y)
print(f"closed form: w = {w_star.item():.4f}, b = {abs(b_star.item()):.4f}")
print(f"distance in w: {abs(w - w_star.item()):.4f}")
print(f"distance in b: {abs(b - b_star.item()):.4f}")

# %% [markdown]
# ## What to remember
#
# - The model is $\hat{y} = wx + b$; the loss adds up squared errors.
# - The gradient follows from the chain rule, and autograd computes exactly the same numbers.
# - Gradient descent steps against the gradient, scaled by the learning rate.
# - Linear regression has a closed-form answer; gradient descent approaches it step by step.
#
# Next: [the same lesson with PyTorch's building blocks](02-pytorch-lesson.md).
