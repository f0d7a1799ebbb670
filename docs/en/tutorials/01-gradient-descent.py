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
# plain tensor arithmetic, and check that autograd gets the same numbers. At the end we
# solve the problem exactly, to see how far 100 steps got.
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
#
# To compare the two gradients we use `torch.allclose`, which allows a tiny difference,
# not `torch.equal`, which demands every bit to match. Two correct computations of the
# same float may add their terms in a different order and round differently in the last
# digit; "the same gradient" means equal up to that rounding.

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
    torch.allclose(w_t.grad, grad_w),
    torch.allclose(b_t.grad, grad_b),
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
# with all three points in every step this is *full-batch* gradient descent. We also keep
# the bias after every epoch, to look at its path later.

# %%
w, b = 0.5, 0.0
losses, biases = [], []
for epoch in range(100):
    error = w * x + b - y  # (3, 1)
    losses.append((error**2).sum().item())
    w -= lr * (2 * x * error).sum().item()
    b -= lr * (2 * error).sum().item()
    biases.append(b)

print(f"after 100 epochs: w = {w:.4f}, b = {b:.4f}, loss = {losses[-1]:.6f}")
peak = biases.index(max(biases))
print(f"b was largest after {peak + 1} epochs: {biases[peak]:.4f}")

# %% alt="Loss against epoch for 100 epochs of gradient descent by hand: it falls steeply in the first few epochs, then slowly."
linreg.plot_loss(losses, title="lr = 0.01", lang="en")

# %% [markdown]
# The loss drops fast at first and then slowly. How close did 100 epochs get? For that
# we need the answer itself.
#
# ## The closed-form answer
#
# For linear regression we do not need to iterate at all. At the minimum both partial
# derivatives are zero (the factor 2 drops out):
#
# $$
# \sum_{i=1}^{N} x_i \left(w x_i + b - y_i\right) = 0,
# \qquad
# \sum_{i=1}^{N} \left(w x_i + b - y_i\right) = 0
# $$
#
# Put the inputs in a matrix $X$ with a second column of ones (the ones multiply $b$) and
# the parameters in $\theta = (w, b)^\top$. The predictions are $X\theta$, and the two
# equations are the **normal equations**:
#
# $$
# X^\top X \, \theta = X^\top y
# $$
#
# Here $X^\top X$ is a 2 × 2 matrix, so `torch.linalg.solve` finds $\theta$ at once:

# %%
X = torch.cat([x, torch.ones(3, 1)], dim=1)  # (3, 2): a column of ones for b
print(X.T @ X)  # (2, 3) @ (3, 2) -> (2, 2)
theta = torch.linalg.solve(X.T @ X, X.T @ y)  # (2, 1): w, then b
print(f"normal equations: w = {theta[0].item():.4f}, b = {theta[1].item():.1e}")

# %% [markdown]
# With one feature the equations can also be solved by hand. The second one says that
# the errors add up to zero, which gives $b = \bar{y} - w\bar{x}$: the best line passes
# through the centroid $(\bar{x}, \bar{y})$ of the data. Putting that $b$ into the first
# equation leaves
#
# $$
# w = \frac{\sum_i (x_i - \bar{x})(y_i - \bar{y})}{\sum_i (x_i - \bar{x})^2}
#   = \frac{\operatorname{cov}(x, y)}{\operatorname{var}(x)},
# \qquad
# b = \bar{y} - w\bar{x}
# $$
#
# `linreg.fit_closed_form` solves the same least-squares problem with
# `torch.linalg.lstsq`, in float64; its answer is the reference every training run on this
# site is compared with. All three should agree:

# %%
x_c, y_c = x - x.mean(), y - y.mean()  # centred: the centroid moves to (0, 0)
w_formula = (x_c * y_c).sum() / (x_c**2).sum()
b_formula = y.mean() - w_formula * x.mean()
print(f"cov / var: w = {w_formula.item():.4f}, b = {b_formula.item():.1e}")

w_star, b_star = linreg.fit_closed_form(x, y)
print(f"linreg:    w = {w_star.item():.4f}, b = {b_star.item():.1e}")

theta_star = torch.cat([w_star.flatten(), b_star])  # (2,)
print(
    "all agree:",
    torch.allclose(theta.flatten(), theta_star, atol=1e-6),
    torch.allclose(torch.stack([w_formula, b_formula]), theta_star, atol=1e-6),
)

# %% [markdown]
# The three answers for $b$ are all zero, up to rounding. float32 keeps about seven
# significant digits, so the float32 solve misses 0 by a few times $10^{-7}$;
# `fit_closed_form` works in float64, which misses it by about $10^{-15}$; and the centred
# formula happens to involve only exact numbers. That is why $b$ is printed in scientific
# notation here: its sign and size show rounding for what it is, where `abs()` or four
# decimals would hide it. It is also why the comparison passes `atol=1e-6`: near zero,
# `allclose`'s relative tolerance means nothing and its default absolute one, `1e-8`, is
# finer than float32 can resolve.
#
# Now the distance that gradient descent has left:

# %%
print(f"after 100 epochs: w = {w:.4f}, b = {b:.4f}")
print(f"distance in w: {abs(w - w_star.item()):.4f}")
print(f"distance in b: {abs(b - b_star.item()):.4f}")

# %% [markdown]
# Calling that "close" would be generous. $w$ is 0.118 short of 2, about 6 %. And $b$ is
# 0.268 away from 0, although it *started* at 0: in the first epochs, while $w$ was far
# too small, raising $b$ was a quick way to lift all three predictions, so $b$ climbed to
# 0.505 after 10 epochs, and since then it has come down only about halfway. Tutorial 2
# explains why this last stretch is so slow: the loss is nearly flat along the direction
# in which $w$ and $b$ trade against each other.
#
# ## Why gradient descent, then?
#
# If the answer is one `solve` away, why iterate at all? Because the closed form does not
# go far:
#
# - It needs $X^\top X$, a $d \times d$ matrix for $d$ features, and a solve that costs
#   about $d^3$ operations. For one feature that is nothing; for many features it is
#   expensive, and when features are nearly redundant the solve is numerically unstable.
# - It needs all the data at once. Gradient descent can learn from one minibatch at a
#   time, so the data need not fit in memory ([tutorial 5](05-minibatches.md)).
# - It exists only because the model is linear. A neural network has no normal equations,
#   but it is trained by exactly this loop: forward, loss, gradient, step.
#
# Gradient descent is the general tool, and this is the place to learn it: a problem
# whose exact answer we know, so every run can be checked against it.
#
# ## What to remember
#
# - The model is $\hat{y} = wx + b$; the loss adds up squared errors.
# - The gradient follows from the chain rule; autograd computes the same numbers, and
#   `torch.allclose` is the way to check that two float computations agree.
# - Gradient descent steps against the gradient, scaled by the learning rate.
# - Linear regression has a closed form, the normal equations $X^\top X\theta = X^\top y$;
#   gradient descent approaches it step by step, slowly at the end.
#
# Next: [the same lesson with PyTorch's building blocks](02-pytorch-lesson.md).
#
# ## Exercises
#
# **1.** Compute the gradient at $w = 1$, $b = 1$ by hand, then check it with autograd.

# %% [markdown] tags=["solution"]
# The errors $w x_i + b - y_i$ are $2 - 2 = 0$, $3 - 4 = -1$ and $4 - 6 = -2$, so
# $\partial L/\partial w = 2(1 \cdot 0 + 2 \cdot (-1) + 3 \cdot (-2)) = -16$ and
# $\partial L/\partial b = 2(0 - 1 - 2) = -6$.

# %% tags=["solution"]
w_1 = torch.tensor(1.0, requires_grad=True)
b_1 = torch.tensor(1.0, requires_grad=True)
((w_1 * x + b_1 - y) ** 2).sum().backward()
by_hand = torch.tensor([-16.0, -6.0])
print(f"autograd at (1, 1): dL/dw = {w_1.grad.item()}, dL/db = {b_1.grad.item()}")
assert torch.allclose(torch.stack([w_1.grad, b_1.grad]), by_hand)

# %% [markdown]
# **2.** Take the first step from $w = 0.5$, $b = 0$ with $\alpha = 0.02$ instead of
# 0.01. What is the loss after it? Use the gradient that autograd left in `w_t.grad`
# and `b_t.grad`.

# %% [markdown] tags=["solution"]
# The step is twice as long: $w = 0.5 + 0.02 \cdot 42 = 1.34$ and $b = 0.02 \cdot 18 =
# 0.36$. The errors become $-0.3$, $-0.96$ and $-1.62$, and the loss
# $0.09 + 0.9216 + 2.6244 = 3.636$, well below the 14.094 of the step with 0.01.
# In code, `.detach()` reads the parameter's value as a plain tensor: without it,
# `w_next` would be one more operation in autograd's record of `w_t`.

# %% tags=["solution"]
w_next = w_t.detach() - 0.02 * w_t.grad
b_next = b_t.detach() - 0.02 * b_t.grad
loss_next = ((w_next * x + b_next - y) ** 2).sum()
print(f"w = {w_next.item():.4f}, b = {b_next.item():.4f}")
print(f"loss after one step with lr = 0.02: {loss_next.item():.4f}")
assert abs(loss_next.item() - 3.636) < 1e-4

# %% [markdown]
# **3.** Gradient descent stopped at $w = 1.8821$. Keeping that $w$, which $b$ gives the
# lowest loss? Compare its loss with the loss of the $(w, b)$ that training reached.

# %% [markdown] tags=["solution"]
# For a fixed $w$, $\partial L/\partial b = 0$ gives $b = \bar{y} - w\bar{x} = 4 - 2w$,
# whatever $w$ is. The errors are then $(w - 2)(x_i - 2)$, so the loss is
# $2(w - 2)^2$. The trained $b$ is a little higher than the best $b$ for its own $w$, so
# the trained line does not pass through the centroid yet; most of the remaining loss,
# though, is the cost of $w$ itself.

# %% tags=["solution"]
b_best = y.mean().item() - w * x.mean().item()
loss_trained = ((w * x + b - y) ** 2).sum().item()
loss_best = ((w * x + b_best - y) ** 2).sum().item()
print(f"best b for w = {w:.4f}: {b_best:.4f} (training reached {b:.4f})")
print(f"loss: {loss_best:.6f} with it, {loss_trained:.6f} as trained")
assert abs(loss_best - 2 * (w - 2) ** 2) < 1e-6

# %% [markdown]
# **4.** Use the mean of the squared errors instead of their sum (`reduction='mean'`).
# What are the gradient at $w = 0.5$, $b = 0$ and the first step with $\alpha = 0.01$?
# Check the gradient with `torch.nn.functional.mse_loss`.

# %% [markdown] tags=["solution"]
# The mean is the sum divided by $N = 3$, and so is its gradient: $(-14, -6)$ instead of
# $(-42, -18)$. With the same $\alpha$ the step is a third as long: $w = 0.64$,
# $b = 0.06$. Tutorial 2 asks which $\alpha$ makes the two take the same steps.

# %% tags=["solution"]
w_m = torch.tensor(0.5, requires_grad=True)
b_m = torch.tensor(0.0, requires_grad=True)
torch.nn.functional.mse_loss(w_m * x + b_m, y, reduction="mean").backward()
print(f"mean: dL/dw = {w_m.grad.item():.4f}, dL/db = {b_m.grad.item():.4f}")
w_step = w_m.item() - lr * w_m.grad.item()
b_step = b_m.item() - lr * b_m.grad.item()
print(f"first step with lr = 0.01: w = {w_step:.4f}, b = {b_step:.4f}")
assert torch.allclose(w_m.grad, grad_w / 3)
assert torch.allclose(b_m.grad, grad_b / 3)
