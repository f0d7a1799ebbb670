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
# which `nn.Linear` needs ([tutorial 6](06-pitfalls.md) shows what happens with integers).

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

# %% [markdown]
# To see the whole run, plot the list of losses with matplotlib, as the original notes
# do. These lines work the same in a script of your own: there `plt.show()` opens a
# window, and in a notebook the figure appears below the cell.

# %% alt="Loss of the lesson's model against epoch, 100 epochs of SGD with lr 0.01: a sharp drop in the first epochs, then a slow decline."
import matplotlib.pyplot as plt

plt.plot(losses)
plt.xlabel("epoch")
plt.ylabel("loss")
plt.title("SGD, lr = 0.01")
plt.show()

# %% [markdown]
# The package behind this site draws the same curve in one call,
# `linreg.plot_loss(losses, lang="en")`, with a light grid and the axis labels in the
# language you ask for; the other tutorials use it.

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
# and swing back and forth instead of settling. There is a name for this: forgetting
# `zero_grad()` turns plain SGD into SGD with momentum 1 and no dampening, whose step
# is the sum of every gradient so far. Tutorial 4 ([the loss surface](04-loss-surface.md#forgetting-zero-grad))
# shows that the two are the same bit for bit, and why a momentum of 1 never settles.
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

print("identical losses:", history.losses == losses)  # == on lists: exact
print(
    "identical w and b:",
    torch.equal(history.weight, model.linear.weight),
    torch.equal(history.bias, model.linear.bias),
)

# %% [markdown]
# Here `torch.equal`, which demands every bit to match, is the right test: the claim is
# that `linreg.train` performs the same operations in the same order, so not even the
# rounding may differ. Where two *different* computations of the same number are compared,
# as below, `torch.allclose` is the test to use.
#
# From a terminal, `linreg train` runs the same thing and prints the same $w$ and $b$.
#
# ## How far from the best answer, and why
#
# The closed-form solution of tutorial 1 is $w = 2$, $b = 0$. After 100 epochs we are
# still some distance away. To compute with the parameters we read them into a plain
# tensor with `.detach()`, which leaves autograd's record of the model out of it:

# %%
w_star, b_star = linreg.fit_closed_form(x_data, y_data)
weight, bias = model.linear.weight.detach(), model.linear.bias.detach()
theta = torch.cat([weight.flatten(), bias]).double()  # (2,): w, b
theta_star = torch.cat([w_star.flatten(), b_star]).double()
print("learned (w, b):    ", [round(v, 4) for v in theta.tolist()])
print(
    "closed form (w, b):", [round(v, 4) + 0.0 for v in theta_star.tolist()]
)  # + 0.0: b* is a rounding error near 1e-15; show 0.0, not -0.0

# %% [markdown]
# The bias is further from 0 than it started (it began at 0.5364). To see why, look at
# the shape of the loss. It is a quadratic bowl in $(w, b)$, and its curvature is the
# same everywhere: the **Hessian** $H = 2X^\top X$, where $X$ is `x_data` with a column
# of ones for the bias. Along an eigenvector of $H$ with eigenvalue $\lambda$, gradient
# descent multiplies the distance to the minimum by $1 - \alpha\lambda$ every epoch. The
# ratio of the largest eigenvalue to the smallest,
#
# $$
# \kappa = \frac{\lambda_{\mathrm{max}}}{\lambda_{\mathrm{min}}},
# $$
#
# is the **condition number** of $H$: it says how much steeper the bowl is in its
# steepest direction than in its flattest.

# %%
X = torch.cat([x_data, torch.ones(3, 1)], dim=1).double()  # (3, 2)
H = 2 * X.T @ X  # (2, 2), the same at every (w, b)
# eigh: the eigenvalues in ascending order, the eigenvectors in the columns
eigenvalues, eigenvectors = torch.linalg.eigh(H)
eigenvectors = eigenvectors * eigenvectors[0].sign()  # make w's part positive
flat, steep = eigenvectors[:, 0], eigenvectors[:, 1]  # (w, b) each
kappa = eigenvalues[1] / eigenvalues[0]
lr = 0.01
print("eigenvalues of H:       ", [round(v, 4) for v in eigenvalues.tolist()])
print("flat direction (w, b):  ", [round(v, 4) for v in flat.tolist()])
print("steep direction (w, b): ", [round(v, 4) for v in steep.tolist()])
print(f"condition number κ:      {kappa.item():.1f}")
print(
    "shrink factor per epoch:",
    [round(v, 4) for v in (1 - lr * eigenvalues).abs().tolist()],
)

# %% [markdown]
# The bowl is 46 times steeper one way than the other. The steep direction moves $w$ and
# $b$ the same way, mostly $w$: the line tilts and rises at once, all three predictions
# move the same way, and the loss climbs fast. The flat direction moves $w$ and $b$
# *against each other*: raise $w$, and lower $b$ by 2.27 times as much.
# That is almost a rotation of the line about the centroid of the data,
# $(\bar{x}, \bar{y}) = (2, 4)$: raise $w$ by $\delta$ and lower $b$ by $2\delta$, and
# each prediction changes by $\delta x - 2\delta = \delta(x - 2)$, nothing at $x = 2$ and
# only $\mp\delta$ at the two other points. The loss hardly notices. A step of the same
# length, 0.1, away from the minimum in each direction:

# %%
def loss_at(theta):  # the lesson's loss at theta = (w, b)
    y_pred = X @ theta  # (3, 2) @ (2,) -> (3,)
    return ((y_pred - y_data.double().flatten()) ** 2).sum().item()


step = 0.1
rotation = torch.tensor([1.0, -2.0], dtype=torch.float64) / 5**0.5  # length 1
for name, direction in [
    ("steep eigenvector", steep),
    ("flat eigenvector ", flat),
    ("(1, -2) / sqrt(5)", rotation),
]:
    rise = loss_at(theta_star + step * direction) - loss_at(theta_star)
    print(f"{name}: the loss rises by {rise:.4f}")

change = X @ torch.tensor([0.1, -0.2], dtype=torch.float64)  # w + 0.1, b - 0.2
print("predictions change by:", [round(v, 4) for v in change.tolist()])

# %% [markdown]
# The same step costs 46 times less loss along the flat eigenvector than along the steep
# one ($\kappa$ again: near the minimum the rise is $\frac{1}{2}\lambda \cdot 0.1^2$), and
# the rotation about the centroid is almost as cheap. So the gradient, which is the slope,
# is tiny along the flat direction, and gradient descent moves slowly there: per epoch
# the error along it shrinks by a factor 0.9928, and after 100 epochs about half of it is
# left, while the steep part has long vanished (0.6672 to the power 100). What remains
# lies along the flat eigenvector: $b$ is too high by 2.27 times as much as $w$ is too
# low. This is why $b$ was still 0.27 after 100 epochs in tutorial 1, and is 0.58 here.
#
# Since gradient descent on a quadratic is linear in the error, we can even predict the
# final error exactly: it is $(I - \alpha H)^{100}$ applied to the starting error.

# %%
torch.manual_seed(0)
theta_0 = torch.cat(
    [p.detach().flatten() for p in LinearModel().parameters()]
).double()
M = torch.linalg.matrix_power(torch.eye(2, dtype=torch.float64) - lr * H, 100)
predicted = M @ (theta_0 - theta_star)
error = theta - theta_star
print(
    "predicted error after 100 epochs:",
    [round(v, 4) for v in predicted.tolist()],
)
print("actual error after 100 epochs:   ", [round(v, 4) for v in error.tolist()])
print("prediction is right:", torch.allclose(predicted, error, atol=1e-5))
print(f"b error / w error: {(error[1] / error[0]).item():.2f}")
print(f"flat eigenvector, b / w: {(flat[1] / flat[0]).item():.2f}")
start_1 = torch.tensor([0.5, 0.0], dtype=torch.float64)  # tutorial 1's start
print(
    "tutorial 1, predicted (w, b):",
    [round(v, 4) for v in (theta_star + M @ (start_1 - theta_star)).tolist()],
)

# %% [markdown]
# The prediction and the run agree to within float32's rounding (the run is float32, the
# prediction float64), hence `allclose`. The last line predicts the $w$ and $b$ that
# tutorial 1 reached by hand from its own start.
#
# Why not simply take a larger learning rate? Because the steep direction sets a limit:
# once $\alpha\lambda_{\mathrm{max}} > 2$, the factor $|1 - \alpha\lambda_{\mathrm{max}}|$ exceeds 1 and the
# error there *grows* every epoch. `linreg.stable_lr` computes the bound $2/\lambda_{\mathrm{max}}$:

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
# the bound the flat direction only shrinks a few percent per epoch: at best
# $1 - 2/\kappa$. This is the *condition number* problem. Tutorial 3 shows how other
# optimizers deal with it, and tutorial 4 ([the loss surface](04-loss-surface.md)) draws
# the bowl and the paths taken on it, with two remedies: momentum, and centring $x$, which
# makes the bowl far rounder. Its [explorer](04-loss-surface.md#explorer) lets you try
# learning rates on either side of the bound and watch the real runs.
#
# ## What to remember
#
# - The recipe: data, a `Module` with `__init__` and `forward`, a loss and an optimizer,
#   then the loop `forward → loss → zero_grad → backward → step`.
# - `MSELoss(reduction="sum")` replaces the deprecated `size_average=False`.
# - Forgetting `zero_grad()` makes gradients pile up: SGD with momentum 1.
# - The learning rate is capped by the steepest direction of the loss, and the flattest
#   direction then decides how slowly the last stretch goes; their ratio is the condition
#   number $\kappa$.
#
# Next: [the homework, comparing optimizers](03-optimizers.md).
#
# ## Exercises
#
# **1.** With `reduction='mean'` the gradient is divided by $N = 3$. At which learning rate
# does `'mean'` take the same steps as `'sum'` with `lr=0.01`? Train both for 100 epochs
# from `torch.manual_seed(0)` and compare the parameters.

# %% [markdown] tags=["solution"]
# A step is $\alpha$ times the gradient, and the mean's gradient is a third of the
# sum's, so $\alpha$ must be three times larger: 0.03. The parameters then follow the same
# path; the losses differ by the factor 3. The two runs compute different numbers along
# the way (a gradient divided by 3 then multiplied by 0.03, against one multiplied by
# 0.01), so `torch.allclose` is the right comparison.

# %% tags=["solution"]
lr_mean = 0.01 * len(x_data)
runs = {}
for reduction, rate in [("sum", 0.01), ("mean", lr_mean)]:
    torch.manual_seed(0)
    model_r = LinearModel()
    optimizer_r = torch.optim.SGD(model_r.parameters(), lr=rate)
    criterion_r = torch.nn.MSELoss(reduction=reduction)
    runs[reduction] = linreg.train(
        model_r, x_data, y_data, criterion_r, optimizer_r, epochs=100
    )
same = torch.allclose(runs["sum"].weight, runs["mean"].weight) and torch.allclose(
    runs["sum"].bias, runs["mean"].bias
)
print(f"lr for 'mean': {lr_mean:.2f}")
print("same w and b:", same)
loss_sum, loss_mean = runs["sum"].final_loss, runs["mean"].final_loss
print(f"final loss: {loss_sum:.4f} (sum), {loss_mean:.4f} (mean)")
assert abs(lr_mean - 0.03) < 1e-12 and same

# %% [markdown]
# **2.** What is the largest stable learning rate for `reduction='mean'`? Derive it from $H$,
# then compare with `linreg.stable_lr(x_data, "mean")`.

# %% [markdown] tags=["solution"]
# The mean's loss is the sum's divided by $N$, so its Hessian is $H/N$, with largest
# eigenvalue $\lambda_{\mathrm{max}}/N$. The bound $2N/\lambda_{\mathrm{max}}$ is $N$ times the sum's:
# about 0.18 instead of 0.06.

# %% tags=["solution"]
lambda_max_mean = torch.linalg.eigvalsh(H / len(x_data))[-1].item()
bound_by_hand = 2 / lambda_max_mean
print(f"2 / lambda_max(H / 3) = {bound_by_hand:.4f}")
print(f"linreg.stable_lr:       {linreg.stable_lr(x_data, 'mean'):.4f}")
assert abs(bound_by_hand - linreg.stable_lr(x_data, "mean")) < 1e-12
assert abs(bound_by_hand - 3 * bound) < 1e-12

# %% [markdown]
# **3.** With the lesson's settings (`'sum'`, `lr=0.01`, seed 0), after how many epochs is
# $|b| < 0.01$? Predict it from the flat direction's shrink factor, then count by
# training.

# %% [markdown] tags=["solution"]
# After a few dozen epochs only the flat part of the error is left, so
# $b - b^* \approx c\,v_b\,\rho^t$: $c$ is the starting error's component along the flat
# eigenvector $v$, $v_b$ that eigenvector's $b$ part, and $\rho = 1 - \alpha\lambda_{\mathrm{min}}$.
# Since $b^* \approx 0$, solve $|c\,v_b|\,\rho^t < 0.01$ for the smallest whole $t$.
# Over six times the lesson's 100 epochs, and the count agrees exactly.

# %% tags=["solution"]
import math

rho = 1 - lr * eigenvalues[0].item()  # the flat direction's factor per epoch
c = (flat @ (theta_0 - theta_star)).item()
b_part = abs(c * flat[1].item())  # |b - b*| at t = 0, flat part only
predicted_epochs = math.ceil(math.log(0.01 / b_part) / math.log(rho))

torch.manual_seed(0)
model_b = LinearModel()
optimizer_b = torch.optim.SGD(model_b.parameters(), lr=0.01)
epochs = 0
while abs(model_b.linear.bias.item()) >= 0.01:
    loss = criterion(model_b(x_data), y_data)
    optimizer_b.zero_grad()
    loss.backward()
    optimizer_b.step()
    epochs += 1
print(f"predicted: {predicted_epochs} epochs, counted: {epochs} epochs")
assert epochs == predicted_epochs

# %% [markdown]
# **4.** Train with `reduction='mean'` at a learning rate 2 % below the bound of exercise 2,
# and 2 % above it. What is the loss after 100 epochs?

# %% [markdown] tags=["solution"]
# At $\alpha = f \cdot 2/\lambda_{\mathrm{max}}$ the steep direction's factor is $|1 - 2f|$:
# 0.96 just below the bound, and the loss falls; 1.04 just above, and the error along
# the steep direction grows by 4 % every epoch, about 50-fold in 100 epochs. The loss,
# which goes with its square, ends over two thousand times higher than it started.

# %% tags=["solution"]
finals = {}
for factor in [0.98, 1.02]:
    torch.manual_seed(0)
    model_f = LinearModel()
    optimizer_f = torch.optim.SGD(model_f.parameters(), lr=factor * bound_mean)
    criterion_f = torch.nn.MSELoss(reduction="mean")
    history_f = linreg.train(
        model_f, x_data, y_data, criterion_f, optimizer_f, epochs=100
    )
    finals[factor] = history_f.final_loss
    print(
        f"lr = {factor} x bound = {factor * bound_mean:.4f}: "
        f"loss {history_f.losses[0]:.4f} -> {finals[factor]:.4g} in 100 epochs"
    )
assert finals[0.98] < history_f.losses[0] < finals[1.02]
