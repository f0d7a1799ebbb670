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
# # Linear regression with PyTorch: the lesson
#
# This is lesson 5 of the course *PyTorch深度学习实践*, rebuilt for today's torch and run
# on every build of this site. We train $\hat{y} = wx + b$ on the three points of
# tutorial 1, this time with PyTorch's building blocks: a `Module`, a loss object and an
# optimizer. The recipe has four steps, and every later model you write follows it:
#
# 1. prepare the data;
# 2. design the model as a subclass of `torch.nn.Module`;
# 3. choose a loss function and an optimizer;
# 4. write the training loop: forward, loss, `zero_grad`, backward, step.
#
# ## 1. The data
#
# Every row is a sample and every column a feature, so three samples of one feature make
# a tensor of shape `(3, 1)`. Writing `1.0` rather than `1` makes the tensor `float32`,
# which `nn.Linear` needs (tutorial 5 shows what happens with integers).

# %%
import torch

import linreg

x_data = torch.tensor([[1.0], [2.0], [3.0]])
y_data = torch.tensor([[2.0], [4.0], [6.0]])
print(x_data.shape, x_data.dtype)

# %% [markdown]
# ## 2. The model
#
# A model is a class that inherits from `torch.nn.Module` and writes two methods:
#
# - `__init__` creates the layers. `torch.nn.Linear(1, 1)` holds a weight and a bias and
#   computes `x @ weight.T + bias`, one input feature to one output.
# - `forward` says how an input becomes a prediction.
#
# There is no `backward` method. Autograd records the operations of `forward` while they
# run and derives the gradients from that record, so the backward pass comes for free.


# %%
class LinearModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)  # in_features=1, out_features=1

    def forward(self, x):
        y_pred = self.linear(x)  # (N, 1) -> (N, 1)
        return y_pred


torch.manual_seed(0)  # the same starting weights every time this page is built
model = LinearModel()
print(model)
print("weight:", model.linear.weight.shape, " bias:", model.linear.bias.shape)
print(f"initial w = {model.linear.weight.item():.4f}")
print(f"initial b = {model.linear.bias.item():.4f}")

# %% [markdown]
# The weight has shape `(out_features, in_features)` and the bias `(out_features,)`.
# Their starting values are random; `torch.manual_seed(0)` makes them the same on every
# run, so the numbers on this page are reproducible on your machine too.
#
# ## 3. The loss and the optimizer
#
# The lesson adds up the squared errors, as in tutorial 1. In today's torch that is
# `MSELoss(reduction="sum")`.

# %%
criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

# %% [markdown]
# The original notes wrote `MSELoss(size_average=False)`. That argument is deprecated:
# torch still accepts it, turns it into a `reduction` and warns. This is what the old
# spelling prints with the torch that built this page:

# %% tags=["warns"]
legacy = torch.nn.MSELoss(size_average=False)
print("reduction:", legacy.reduction)

# %% [markdown]
# `model.parameters()` hands the optimizer every tensor it may change: here the weight and
# the bias. `SGD` with `lr=0.01` will update each of them as
# $\theta \leftarrow \theta - 0.01 \cdot \partial L / \partial \theta$.
#
# ## 4. The training loop
#
# Each epoch runs the same five lines. (The original notes called an undefined
# `criterion1` here; the loss object is `criterion`.)

# %%
losses = []
for epoch in range(100):
    y_pred = model(x_data)  # forward pass: (3, 1)
    loss = criterion(y_pred, y_data)  # a scalar tensor
    losses.append(loss.item())
    if epoch % 10 == 0 or epoch == 99:
        print(f"epoch {epoch:3d}  loss {loss.item():.6f}")

    optimizer.zero_grad()  # forget the gradients of the previous step
    loss.backward()  # compute dL/dw and dL/db into .grad
    optimizer.step()  # w -= lr * w.grad, b -= lr * b.grad

# %% [markdown]
# After training we read the parameters and predict $y$ at $x = 4$. Prediction needs no
# gradients, so it runs inside `torch.no_grad()`, and `.item()` turns a one-element tensor
# into a Python number.

# %%
print(f"w = {model.linear.weight.item():.6f}")
print(f"b = {model.linear.bias.item():.6f}")

x_test = torch.tensor([[4.0]])
with torch.no_grad():
    y_test = model(x_test)
print(f"y_pred at x = 4: {y_test.item():.6f}")

# %% alt="Loss of the lesson's model against epoch, 100 epochs of SGD with lr 0.01: a sharp drop in the first epochs, then a slow decline."
linreg.plot_loss(losses, title="SGD, lr = 0.01", lang="en")

# %% [markdown]
# ## Why `zero_grad`?
#
# `backward()` does not overwrite `.grad`: it adds the new gradient to whatever is there.
# That is useful when a gradient is assembled from several parts, but in this loop each
# step needs the gradient of the current loss only. Without `zero_grad()` every step uses
# the sum of all gradients so far. Same model, same start, the line left out:

# %%
torch.manual_seed(0)
model_no_zero = LinearModel()
optimizer_no_zero = torch.optim.SGD(model_no_zero.parameters(), lr=0.01)
losses_no_zero = []
for epoch in range(100):
    loss = criterion(model_no_zero(x_data), y_data)
    losses_no_zero.append(loss.item())
    loss.backward()  # gradients pile up in .grad
    optimizer_no_zero.step()

print(f"{'epoch':>5}  {'with zero_grad':>14}  {'without':>8}")
for epoch in range(6):
    print(f"{epoch:5d}  {losses[epoch]:14.4f}  {losses_no_zero[epoch]:8.4f}")
w_no_zero = model_no_zero.linear.weight.item()
print(f"w after 100 epochs: {w_no_zero:.4f} without zero_grad,")
print(f"                    {model.linear.weight.item():.4f} with it")

# %% alt="Two loss curves on a logarithmic scale: with zero_grad the loss falls steadily; without it the loss swings up and down for all 100 epochs and never settles."
linreg.plot_comparison(
    {"with zero_grad()": losses, "without zero_grad()": losses_no_zero},
    kind="overlay",
    lang="en",
)

# %% [markdown]
# The accumulated gradient keeps pushing in old directions, so the parameters overshoot
# and swing back and forth instead of settling.
#
# ## The same in one call with `linreg`
#
# The package behind this site wraps the recipe. `linreg.train` runs exactly the lesson's
# loop, in the same order, so from the same seed it gives *identical* numbers, not just
# close ones:

# %%
torch.manual_seed(0)
model_2 = linreg.LinearModel()
optimizer_2 = linreg.make_optimizer("SGD", model_2.parameters(), lr=0.01)
history = linreg.train(
    model_2,
    x_data,
    y_data,
    linreg.make_criterion("sum"),
    optimizer_2,
    epochs=100,
)

print("identical losses:", history.losses == losses)
print(
    "identical w and b:",
    torch.equal(history.weight, model.linear.weight),
    torch.equal(history.bias, model.linear.bias),
)

# %% [markdown]
# From a terminal, `linreg train` runs the same thing and prints the same $w$ and $b$.
#
# ## How far from the best answer, and why
#
# The closed-form solution of tutorial 1 is $w = 2$, $b = 0$. After 100 epochs we are
# still some distance away:

# %%
w_star, b_star = linreg.fit_closed_form(x_data, y_data)
theta = torch.cat([model.linear.weight.flatten(), model.linear.bias]).double()
theta_star = torch.cat([w_star.flatten(), b_star]).double()
print("learned (w, b):    ", [round(v, 4) for v in theta.tolist()])
print(
    "closed form (w, b):", [round(v, 4) + 0.0 for v in theta_star.tolist()]
)  # + 0.0: no "-0.0"

# %% [markdown]
# The loss is a quadratic bowl in $(w, b)$, and its curvature is the same everywhere: the
# Hessian $H = 2X^\top X$, where $X$ is `x_data` with a column of ones for the bias.
# Gradient descent shrinks the distance to the minimum along each eigenvector of $H$ by a
# factor $|1 - \alpha\lambda|$ per epoch, where $\lambda$ is that eigenvector's eigenvalue.
# This bowl is long and narrow: one direction is steep, the other almost flat.

# %%
X = torch.cat([x_data, torch.ones(3, 1)], dim=1).double()  # (3, 2)
H = 2 * X.T @ X  # (2, 2), the same at every (w, b)
eigenvalues = torch.linalg.eigvalsh(H)
lr = 0.01
print("eigenvalues of H:      ", [round(v, 4) for v in eigenvalues.tolist()])
print(
    "shrink factor per epoch:",
    [round(v, 4) for v in (1 - lr * eigenvalues).abs().tolist()],
)

# %% [markdown]
# Along the steep direction the error shrinks by a third every epoch; along the flat one
# by less than one percent. Since gradient descent on a quadratic is linear in the error,
# we can even predict the final error exactly: it is $(I - \alpha H)^{100}$ applied to the
# starting error.

# %%
torch.manual_seed(0)
theta_0 = torch.cat(
    [p.detach().flatten() for p in LinearModel().parameters()]
).double()
predicted = torch.linalg.matrix_power(
    torch.eye(2, dtype=torch.float64) - lr * H, 100
) @ (theta_0 - theta_star)
print(
    "predicted error after 100 epochs:",
    [round(v, 4) for v in predicted.tolist()],
)
print(
    "actual error after 100 epochs:   ",
    [round(v, 4) for v in (theta - theta_star).tolist()],
)

# %% [markdown]
# Why not simply take a larger learning rate? Because the steep direction sets a limit:
# once $\alpha\lambda_{\max} > 2$, the factor $|1 - \alpha\lambda_{\max}|$ exceeds 1 and the
# error there *grows* every epoch. `linreg.stable_lr` computes the bound $2/\lambda_{\max}$:

# %%
bound = linreg.stable_lr(x_data, "sum")
bound_mean = linreg.stable_lr(x_data, "mean")
flat_factor = 1 - bound * eigenvalues[0].item()
print(f"largest stable lr, reduction='sum':  {bound:.4f}")
print(f"largest stable lr, reduction='mean': {bound_mean:.4f}")
print(f"flat-direction factor at that lr:    {flat_factor:.4f}")

# %% [markdown]
# With `reduction='mean'` the loss and its gradient are divided by $N = 3$, so the bound is
# three times larger: the same steps need a learning rate $N$ times bigger. And even at
# the bound the flat direction only shrinks a few percent per epoch. This is the
# *condition number* problem; tutorial 3 shows how other optimizers deal with it.
#
# ## What to remember
#
# - The recipe: data, a `Module` with `__init__` and `forward`, a loss and an optimizer,
#   then the loop `forward → loss → zero_grad → backward → step`.
# - `MSELoss(reduction="sum")` replaces the deprecated `size_average=False`.
# - Forgetting `zero_grad()` makes gradients pile up.
# - The learning rate is capped by the steepest direction of the loss, and the flattest
#   direction then decides how slowly the last stretch goes.
#
# Next: [the homework, comparing optimizers](03-optimizers.md).
