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
# # The loss surface
#
# [Tutorial 2](02-pytorch-lesson.md) ended with a picture in words: the lesson's loss is
# a long, narrow bowl over the plane of $(w, b)$, curved by the Hessian $H = 2X^\top X$.
# [Tutorial 3](03-optimizers.md) compared optimizers by their loss curves. This page
# draws the bowl itself and the path each optimizer walks across it, computed by real
# `torch.optim` runs while the page was built. The pictures explain the numbers of the
# last two tutorials: why SGD is slow, why momentum helps, and how one line of
# preprocessing makes plain SGD fast. At the end, [an explorer](#explorer) lets you pick
# the optimizer, the learning rate and the momentum yourself and scrub through the runs.
#
# ## 1. The bowl and its two directions { #the-bowl }
#
# `linreg.loss_grid` evaluates the loss at every point of a grid of weights and biases in
# one vectorised pass, and `linreg.hessian` gives the curvature. Every run on this page
# starts where the lesson's model starts, at the weights of `torch.manual_seed(0)`.

# %%
import torch

import linreg

x, y = linreg.lesson_data()
w_grid = torch.linspace(-1, 4, 200)
b_grid = torch.linspace(-1, 2.6, 200)
losses = linreg.loss_grid(x, y, w_grid, b_grid)  # (200 b, 200 w)
print("grid of losses:", tuple(losses.shape))

torch.manual_seed(0)
model = linreg.LinearModel()  # the lesson's initial weights
start = (model.linear.weight.item(), model.linear.bias.item())
with torch.no_grad():
    model.linear.weight.fill_(w_grid[50].item())
    model.linear.bias.fill_(b_grid[80].item())
    loss = torch.nn.MSELoss(reduction="sum")(model(x), y)
print(f"MSELoss at one grid point: {loss.item():.4f}")
print(f"loss_grid at that point:   {losses[80, 50].item():.4f}")
print(f"start: w = {start[0]:.4f}, b = {start[1]:.4f}")

# %% [markdown]
# The minimum is the closed-form answer $w = 2$, $b = 0$. The Hessian's eigenvectors are
# the bowl's axes: along one the walls are steep, along the other the floor is almost
# flat. The ratio of their eigenvalues is the *condition number* $\kappa$.

# %%
H = linreg.hessian(x)  # (2, 2), float64
eigenvalues, eigenvectors = torch.linalg.eigh(H)  # ascending
lambda_min, lambda_max = eigenvalues.tolist()
kappa = lambda_max / lambda_min
flat, steep = eigenvectors[:, 0], eigenvectors[:, 1]
steep = steep if steep[0] > 0 else -steep  # a direction's sign is free
flat = flat if flat[0] > 0 else -flat
print(f"eigenvalues: {lambda_min:.4f} and {lambda_max:.4f}")
print(f"steep direction (w, b): ({steep[0]:.4f}, {steep[1]:.4f})")
print(f"flat direction  (w, b): ({flat[0]:.4f}, {flat[1]:.4f})")
print(f"condition number: {kappa:.2f}")

# %% [markdown]
# These are the two directions of tutorial 2: the steep one tilts and lifts the line at
# once, the flat one turns it about the centroid of the data, which the predictions
# hardly notice. The bowl curves $\kappa \approx 46$ times more sharply along the first
# than along the second, and everything below follows from that ratio.
#
# ## 2. Where SGD goes { #sgd-paths }
#
# `linreg.trajectory` trains from a given $(w, b)$ with a real optimizer and returns
# the point after every epoch, along with the usual `History`. It is the lesson's loop
# (`linreg.train`), so its numbers equal a hand-written loop's. We run SGD at the
# lesson's `lr=0.01`, at 0.9 times the stable bound $2/\lambda_{\mathrm{max}}$ of tutorial 2,
# and at 1.1 times it. A diverging run stops once its loss passes `cap` (here $10^6$),
# so nothing overflows.

# %%
bound = linreg.stable_lr(x, "sum")
sgd = {}
print(f"stable bound 2/λmax = {bound:.4f}\n")
print(f"{'lr':>7}  {'steep factor':>12}  {'flat factor':>11}  after 100 epochs")
for lr in [0.01, 0.9 * bound, 1.1 * bound]:
    points, history = linreg.trajectory(
        "SGD", x, y, start, epochs=100, lr=lr, cap=1e6
    )
    sgd[f"lr = {lr:.3g}"] = points
    steep_factor = abs(1 - lr * lambda_max)
    flat_factor = abs(1 - lr * lambda_min)
    row = f"{lr:7.4f}  {steep_factor:12.4f}  {flat_factor:11.4f}  "
    if history.stopped_early:
        row += f"loss passed 1e6 at epoch {len(history.losses) - 1}"
    else:
        distance = (points[-1] - torch.tensor([2.0, 0.0])).norm()
        row += f"distance to minimum {distance:.4f}"
    print(row)

# %% alt="Contour plot of the loss over w and b: long narrow ellipses around the minimum at w = 2, b = 0, with arrows for the steep and the flat direction. SGD at lr 0.01 climbs to the valley in a few epochs, then crawls along it; at 0.9 times the bound it zig-zags across the valley before sliding down it; at 1.1 times the bound each crossing is wider and the path leaves the picture."
linreg.plot_surface(x, y, sgd, extent=(-0.8, 4.0, -0.9, 2.6), lang="en")

# %% [markdown]
# Read the plot with the two factors of the table. At `lr=0.01` the steep error shrinks
# by a third per epoch: the path reaches the valley floor within a few epochs. Along
# the floor the factor is 0.9928, so it then creeps towards the minimum and is still far
# from it after 100 epochs. At 0.9 times the bound the steep factor is $1 - 1.8 = -0.8$:
# the sign flips every epoch, so the path jumps from one wall of the valley to the other,
# each jump 20% shorter, while the larger step slides it down the floor much faster. At
# 1.1 times the bound the factor is $-1.2$: every jump is 20% longer than the last, and
# the run diverges.
#
# ## 3. Where other optimizers go { #other-optimizers }
#
# The same start for SGD with momentum 0.9, Adam at `lr=0.1` (ten times tutorial 3's,
# so that it gets somewhere in 100 epochs), Rprop at its default `lr=0.01`, and LBFGS at
# its default `lr=1` with `max_iter=1`, so that each epoch is a single LBFGS iteration
# and its path shows every step.

# %%
settings = {
    "SGD, momentum 0.9": ("SGD", {"lr": 0.01, "momentum": 0.9}),
    "Adam, lr = 0.1": ("Adam", {"lr": 0.1}),
    "Rprop, lr = 0.01": ("Rprop", {"lr": 0.01}),
    "LBFGS, max_iter = 1": ("LBFGS", {"lr": 1, "max_iter": 1}),
}
others = {}
print(f"{'within 0.001 at epoch':>21}{'after 100 epochs':>18}  optimizer")
for label, (name, hyperparameters) in settings.items():
    points, history = linreg.trajectory(
        name, x, y, start, epochs=100, **hyperparameters
    )
    others[label] = points
    distances = (points - torch.tensor([2.0, 0.0])).norm(dim=1)  # (101,)
    close = (distances < 1e-3).nonzero()
    first = f"{close[0, 0].item()}" if len(close) else "> 100"
    print(f"{first:>21}{distances[-1]:>18.2e}  {label}")

# %% alt="The same contour plot with four paths. SGD with momentum 0.9 swings in wide loops around the valley and spirals into the minimum. Adam and Rprop first move diagonally, w and b by the same amount, overshoot the valley upwards, then follow its floor down. LBFGS reaches the valley in two steps and the minimum soon after."
linreg.plot_surface(x, y, others, extent=(-0.3, 3.1, -0.6, 2.1), lang="en")

# %% [markdown]
# - **Momentum** carries speed from one epoch to the next: the path overshoots in wide
#   swings, but the swings carry it along the flat floor too. Section 4 explains it.
# - **Adam and Rprop** look at each parameter on its own and step by roughly the same
#   amount in $w$ and in $b$, whatever the gradient's size: their first steps go
#   diagonally, at 45°, blind to the shape of the bowl. Rprop grows its steps while a sign
#   stays the same and ends far closer; Adam at this `lr` is still on the way.
# - **LBFGS** builds a model of the curvature from the gradients it has seen. Its first
#   step is a cautious gradient step and its second lands in the valley; two steps later
#   it has measured the bowl, which is exactly quadratic, and jumps to the bottom.
#
# ## 4. Momentum and conditioning { #momentum }
#
# SGD with momentum $\mu$ keeps a running sum of gradients, $v \leftarrow \mu v + g$,
# and steps $\theta \leftarrow \theta - \alpha v$. On the bowl each eigen-direction
# evolves on its own, and the two behave differently:
#
# - Along the **flat** direction the gradient barely changes from one epoch to the next,
#   so $v$ grows towards $g + \mu g + \mu^2 g + \dots = g / (1 - \mu)$: the step becomes
#   about $\alpha / (1 - \mu)$, ten times larger for $\mu = 0.9$. The slow direction
#   speeds up.
# - Along the **steep** direction the error overshoots and changes sign every few
#   epochs, so gradients of opposite signs pile up in $v$ and partly cancel: momentum
#   does not blow up the direction that was already fast.
#
# How fast each direction shrinks is a number we can compute: for one eigenvalue
# $\lambda$, the errors obey $e_{t+1} = (1 + \mu - \alpha\lambda)\,e_t - \mu\,e_{t-1}$,
# and the error shrinks per epoch by the largest root of
# $z^2 - (1 + \mu - \alpha\lambda)z + \mu = 0$ in absolute value. For a quadratic,
# Polyak's *heavy ball* settings make both directions shrink equally fast:
# $\mu = \left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^2$ and
# $\alpha = \frac{4}{(\sqrt{\lambda_{\mathrm{max}}} + \sqrt{\lambda_{\mathrm{min}}})^2}$.


# %%
def rate(lr, momentum, eigenvalue):
    """The factor by which the error along one eigenvector shrinks per epoch."""
    b = 1 + momentum - lr * eigenvalue
    roots = torch.linalg.eigvals(
        torch.tensor([[b, -momentum], [1.0, 0.0]], dtype=torch.float64)
    )
    return roots.abs().max().item()


root_kappa = kappa**0.5
mu_polyak = ((root_kappa - 1) / (root_kappa + 1)) ** 2
lr_polyak = 4 / (lambda_max**0.5 + lambda_min**0.5) ** 2
print(f"heavy ball: momentum {mu_polyak:.4f}, lr {lr_polyak:.4f}\n")

runs = {
    "SGD": (0.01, 0.0),
    "SGD, momentum 0.9": (0.01, 0.9),
    "heavy ball": (lr_polyak, mu_polyak),
}
curves = {}
print(f"{'steep':>10}{'flat':>10}{'distance after 100':>20}")
for label, (lr, momentum) in runs.items():
    points, history = linreg.trajectory(
        "SGD", x, y, start, epochs=100, lr=lr, momentum=momentum
    )
    curves[label] = history.losses
    steep_rate = rate(lr, momentum, lambda_max)
    flat_rate = rate(lr, momentum, lambda_min)
    distance = (points[-1] - torch.tensor([2.0, 0.0])).norm()
    print(f"{steep_rate:>10.4f}{flat_rate:>10.4f}{distance:>20.2e}  {label}")

# %% alt="Loss against epoch on a logarithmic scale for three runs: plain SGD drops fast, then declines slowly; SGD with momentum 0.9 falls in waves, steadily lower; the heavy ball first rises for a few epochs, then falls in a straight line, fastest of the three, to the rounding floor of float32 before epoch 70."
linreg.plot_comparison(curves, kind="overlay", lang="en")

# %% [markdown]
# Momentum 0.9 trades speed along the steep direction (0.667 becomes 0.949 per epoch)
# for speed along the flat one (0.9928 becomes 0.949): in 100 epochs it ends more than
# fifty times closer than plain SGD. The heavy ball balances the two exactly, at
# $(\sqrt\kappa - 1)/(\sqrt\kappa + 1)$ per epoch, and its rate depends on
# $\sqrt\kappa$ instead of $\kappa$. The best plain gradient descent can do on this bowl,
# with $\alpha = 2/(\lambda_{\mathrm{max}} + \lambda_{\mathrm{min}})$, is $(\kappa - 1)/(\kappa + 1)$:

# %%
print(f"best plain gradient descent: {(kappa - 1) / (kappa + 1):.4f} per epoch")
print(f"heavy ball:                  {(root_kappa - 1) / (root_kappa + 1):.4f} per epoch")

# %% [markdown]
# ## 5. Forgetting `zero_grad` is momentum 1 { #forgetting-zero-grad }
#
# Tutorial 2 showed that without `optimizer.zero_grad()` the loss swings for ever.
# Now we can say exactly what that loop does. `backward()` adds each new gradient to
# `.grad`, so after $t$ epochs `.grad` holds $g_1 + g_2 + \dots + g_t$. SGD with
# momentum $\mu = 1$ and no dampening keeps $v \leftarrow 1 \cdot v + g$: the same sum.
# The two loops below should therefore be one program, and they are, bit for bit:

# %%
criterion = torch.nn.MSELoss(reduction="sum")
torch.manual_seed(0)
model_forgets = linreg.LinearModel()
optimizer_forgets = torch.optim.SGD(model_forgets.parameters(), lr=0.01)
torch.manual_seed(0)
model_momentum = linreg.LinearModel()
optimizer_momentum = torch.optim.SGD(
    model_momentum.parameters(), lr=0.01, momentum=1, dampening=0
)
identical, distances = [], []
for epoch in range(100):
    loss = criterion(model_forgets(x), y)
    loss.backward()  # no zero_grad: .grad keeps the sum of all gradients
    optimizer_forgets.step()

    loss = criterion(model_momentum(x), y)
    optimizer_momentum.zero_grad()
    loss.backward()
    optimizer_momentum.step()

    pairs = zip(model_forgets.parameters(), model_momentum.parameters())
    identical.append(all(torch.equal(p, q) for p, q in pairs))
    w_b = torch.cat([p.detach().flatten() for p in model_forgets.parameters()])
    distances.append((w_b - torch.tensor([2.0, 0.0])).norm().item())

print("identical after every one of 100 epochs:", all(identical))
print("distance to the minimum, every 10 epochs:")
print(" ".join(f"{d:.2f}" for d in distances[9::10]))
print(
    f"rates with momentum 1: {rate(0.01, 1.0, lambda_max):.4f}"
    f" and {rate(0.01, 1.0, lambda_min):.4f}"
)

# %% [markdown]
# Why does it never settle? Momentum is a ball rolling in the bowl, and $1 - \mu$ is its
# friction: with $\mu < 1$ the buffer forgets old gradients a little every epoch, and
# the ball loses speed until it rests at the bottom. With $\mu = 1$ nothing is ever
# forgotten, so there is no friction at all: the ball rolls through the minimum, up
# the other side and back, for ever, like an undamped oscillator. Both rates are
# exactly 1: the error neither grows nor shrinks; it only turns.
#
# ## 6. Centring the data { #centring }
#
# No optimizer changes the bowl, but the data can. The flat direction exists because
# $w$ and $b$ pull in nearly the same direction when every $x$ is positive: raising the
# slope or raising the intercept both lift all three predictions. Subtract the mean,
# $x_c = x - \bar{x}$, and the two columns of $X$ become orthogonal ($\sum x_c = 0$): the
# Hessian is diagonal.

# %%
x_mean = x.mean()
x_c = x - x_mean  # -1, 0, 1
H_c = linreg.hessian(x_c)
eigenvalues_c = torch.linalg.eigvalsh(H_c).tolist()
print("Hessian for centred x:", H_c.tolist())
print(f"condition number: {kappa:.2f} -> {eigenvalues_c[1] / eigenvalues_c[0]:.2f}")
bound_c = linreg.stable_lr(x_c, "sum")
print(f"stable bound:     {bound:.4f} -> {bound_c:.4f}")

# %% [markdown]
# The model on centred data, $\hat{y} = w x_c + b_c$, is the same family of lines
# written about another origin, so it has the same minimum in other coordinates:
# $w$ is unchanged and $b = b_c - w\bar{x}$. Here is SGD from the same start, at the
# lesson's `lr=0.01` and at half the new bound, mapped back and checked against the
# closed form on the original $x$:

# %%
w_star, b_star = linreg.fit_closed_form(x, y)
centred = {}
for lr in [0.01, bound_c / 2]:
    points, history = linreg.trajectory(
        "SGD", x_c, y, start, epochs=100, lr=lr
    )
    centred[f"lr = {lr:.3g}"] = points
    w, b_c = points[-1].tolist()
    b = b_c - w * x_mean.item()  # back to the original x
    distance = ((w - w_star.item()) ** 2 + (b - b_star.item()) ** 2) ** 0.5
    print(f"lr = {lr:.4f}: w = {w:.4f}, b = {b + 0.0:.4f}, distance {distance:.1e}")

# %% alt="Contour plot of the loss for centred x: nearly round circles around the minimum at w = 2, b = 4, the arrows for the two directions almost equal. SGD at lr 0.01 runs in an almost straight line to the minimum; at half the bound the first step lands on the right b, and the next steps move w only."
linreg.plot_surface(x_c, y, centred, extent=(-1.0, 3.6, 0.2, 4.6), lang="en")

# %% [markdown]
# At `lr=0.01` the centred run ends nine times closer than the lesson's run (0.6301 in
# section 2) after the same 100 epochs. At half the new bound, a learning rate that
# would blow up the original problem, it reaches the minimum to float32's precision.
# This is why inputs are standardised in practice: it costs one subtraction and a
# division, and it makes every optimizer's job easier.
#
# ## 7. The fit, seen { #the-fit }
#
# All of this is the same line moving through the data. Here is the lesson's run
# (SGD, `lr=0.01`) after 0, 1, 5, 20 and 100 epochs:

# %%
points, history = linreg.trajectory("SGD", x, y, start, epochs=100, lr=0.01)
print(f"{'epoch':>5}{'w':>9}{'b':>9}")
for epoch in [0, 1, 5, 20, 100]:
    w, b = points[epoch].tolist()
    print(f"{epoch:>5}{w:>9.4f}{b:>9.4f}")

# %% alt="The three data points and five lines: at epoch 0 the line is flat near y = 0.5; after one epoch it is tilted upwards; after 5 and 20 epochs it passes close to the points with too shallow a slope and too high an intercept; after 100 epochs it is steeper and lower, near but not yet on the points."
linreg.plot_fits(x, y, points, [0, 1, 5, 20, 100], lang="en")

# %% [markdown]
# The first few epochs fix the steep direction: the line moves up to the points. All
# the rest crawl along the flat direction: the line turns slowly about the middle of
# the data, the slope creeping up and the intercept down.
#
# ## 8. Learning rates around the bound { #around-the-bound }
#
# Finally, the loss curves of SGD at learning rates from half the bound to just above
# it. Each run stops recording once its loss passes $10^6$.

# %%
factors = [0.5, 0.9, 0.99, 1.01, 1.1]
around = {}
print(f"{'lr/bound':>8}{'lr':>8}{'steep factor':>14}  after 100 epochs")
for factor in factors:
    lr = factor * bound
    points, history = linreg.trajectory(
        "SGD", x, y, start, epochs=100, lr=lr, cap=1e6
    )
    around[f"{factor} × 2/λmax"] = history.losses
    row = f"{factor:>8}{lr:>8.4f}{abs(1 - lr * lambda_max):>14.4f}  "
    if history.stopped_early:
        row += f"loss passed 1e6 at epoch {len(history.losses) - 1}"
    else:
        row += f"loss {history.full_losses[-1]:.3g}"
    print(row)

# %% alt="Five small plots of the loss on a logarithmic scale. At 0.5 times the bound the loss drops at once, then falls in a straight line; at 0.9 times it falls fast, then more slowly; at 0.99 times it falls slowly in a straight line; at 1.01 times it rises slowly in a straight line; at 1.1 times it rises fast and passes a million before epoch 30."
linreg.plot_comparison(around, kind="grid", log=True, columns=3, lang="en")

# %% [markdown]
# - **Half the bound**: $\alpha\lambda_{\mathrm{max}} = 1$, so the steep factor is 0 and the
#   first epoch removes the steep error entirely; the rest is the flat direction's slow
#   straight line on the log scale.
# - **0.9**: the steep error flips sign every epoch but shrinks, and the flat direction
#   is faster than at 0.5.
# - **0.99**: the steep factor is 0.98. The parameters swing across the valley every
#   epoch; the loss, which squares the error, does not show the swinging, only how
#   slowly it dies.
# - **1.01**: the factor is 1.02. Divergence can be slow: after 100 epochs the loss has
#   only grown some fifty-fold, easy to mistake for a run that is merely stuck.
# - **1.1**: the factor is 1.2 and the loss passes $10^6$ within 30 epochs.
#
# So the best learning rate is not the largest stable one: the steep direction prefers
# $\alpha$ far from the bound, the flat one prefers large $\alpha$, and the best single
# compromise, $2/(\lambda_{\mathrm{max}} + \lambda_{\mathrm{min}})$, still leaves the flat direction
# slow. Fixing that takes momentum or, better, a rounder bowl.
#
# ## 9. Explore it yourself { #explorer }
#
# Pick an optimizer, drag the learning rate and the momentum, switch the reduction or
# centre $x$, then scrub the epochs or press Play: the path crosses the contours of
# $L(w, b)$ and the loss curve beside it follows. Nothing is simulated in your browser:
# every path is a real `torch.optim` run from the lesson's start, computed when the page
# was built, on a grid of 13 learning rates (0.0033 to 2.43, each $\sqrt{3}$ times the
# last) and momenta 0, 0.5, 0.9 and 0.99, with Adam and RMSprop at torch's defaults; the
# numbers are rounded to 0.01 and the loss to 2 significant digits. The mark under the
# learning-rate slider is the bound $2/\lambda_{\mathrm{max}}$ of section 8: take plain SGD
# past it and watch the run leave the plot.
#
# <div class="lr-explorer" id="lr-explorer">
# <link rel="stylesheet" href="../../assets/explorer/explorer.css">
# <p class="lr-explorer__nojs">The explorer needs JavaScript, which is turned off or has
# not loaded. The figures of sections 2 to 8 show the same kind of runs: real
# <code>torch.optim</code> paths across the contours, and their loss curves.</p>
# </div>
# <script src="../../assets/explorer/explorer.js" defer></script>
#
# ## What to remember { #what-to-remember }
#
# - The loss of a linear model is a bowl whose axes are the Hessian's eigenvectors. Its
#   condition number $\kappa$, the ratio of the steepest curvature to the flattest,
#   measures how stretched it is.
# - The steep direction caps the learning rate at $2/\lambda_{\mathrm{max}}$; the flat direction
#   then decides how long the last stretch takes.
# - Momentum speeds up the flat direction by about $1/(1 - \mu)$; Polyak's heavy ball
#   makes the rate depend on $\sqrt\kappa$ instead of $\kappa$.
# - Forgetting `zero_grad()` is SGD with momentum 1: no friction, no convergence.
# - Centring $x$ makes the bowl round, which helps every optimizer; map $b$ back with
#   $b = b_c - w\bar{x}$.
#
# Next: [minibatches](05-minibatches.md).
#
# ## Exercises { #exercises }
#
# **1.** Which momentum $\mu \in \{0.5, 0.55, \dots, 0.95\}$ makes SGD at `lr=0.01` reach a
# loss below $10^{-6}$ in the fewest epochs? Compare with the $\mu$ that makes the
# flat direction's two roots meet, $(1 - \sqrt{\alpha\lambda_{\mathrm{min}}})^2$.

# %% [markdown] tags=["solution"]
# Run each momentum with a callback that stops the run once the loss is small enough;
# the number of recorded losses is the number of epochs it took.

# %% tags=["solution"]
epochs_needed = {}
for i in range(10):
    momentum = 0.5 + 0.05 * i
    torch.manual_seed(0)
    model = linreg.LinearModel()
    optimizer = linreg.make_optimizer(
        "SGD", model.parameters(), lr=0.01, momentum=momentum
    )
    history = linreg.train(
        model, x, y, criterion, optimizer, epochs=2000,
        callback=lambda epoch, loss, model: loss < 1e-6,
    )
    epochs_needed[round(momentum, 2)] = len(history.losses)
best = min(epochs_needed, key=epochs_needed.get)
critical = (1 - (0.01 * lambda_min) ** 0.5) ** 2
print("epochs to a loss below 1e-6:", epochs_needed)
print(f"fastest: momentum {best} ({epochs_needed[best]} epochs)")
print(f"the flat direction's roots meet at momentum {critical:.4f}")
assert abs(best - critical) < 0.05

# %% [markdown] tags=["solution"]
# Below $(1 - \sqrt{\alpha\lambda_{\mathrm{min}}})^2$ the flat direction is overdamped and
# creeps; above it, both directions oscillate and shrink at $\sqrt\mu$ per epoch, so a
# larger $\mu$ is slower. The best $\mu$ sits at the meeting point.

# %% [markdown]
# **2.** Compute the condition number of the Hessian for centred $x$ by hand, from
# $X_c^\top X_c = \begin{pmatrix} \sum x_c^2 & \sum x_c \\ \sum x_c & N \end{pmatrix}$.

# %% [markdown] tags=["solution"]
# With $x_c = -1, 0, 1$: $\sum x_c^2 = 2$, $\sum x_c = 0$ and $N = 3$. The matrix is
# diagonal, so its eigenvalues are the diagonal of $H_c = 2X_c^\top X_c$: 4 and 6, and
# $\kappa = 6/4 = 1.5$.

# %% tags=["solution"]
sum_of_squares = sum(v * v for v in [-1.0, 0.0, 1.0])
kappa_by_hand = (2 * 3) / (2 * sum_of_squares)
kappa_torch = eigenvalues_c[1] / eigenvalues_c[0]
print(f"by hand: {kappa_by_hand}, from torch: {kappa_torch:.4f}")
assert abs(kappa_by_hand - kappa_torch) < 1e-12

# %% [markdown]
# **3.** What is the stable bound for `reduction='mean'` on centred $x$? Check it by running
# SGD a little below and a little above it.

# %% [markdown] tags=["solution"]
# The mean divides the loss by $N = 3$, so $H$ becomes $\mathrm{diag}(4/3, 2)$ and the
# bound is $2/2 = 1$.

# %% tags=["solution"]
bound_mean = 2 / (6 / 3)
print(f"by hand: {bound_mean}, stable_lr: {linreg.stable_lr(x_c, 'mean'):.4f}")
for lr in [0.9 * bound_mean, 1.1 * bound_mean]:
    points, history = linreg.trajectory(
        "SGD", x_c, y, start, epochs=100, reduction="mean", lr=lr, cap=1e6
    )
    if history.stopped_early:
        print(f"lr = {lr:.1f}: the loss passed 1e6 at epoch {len(history.losses) - 1}")
    else:
        print(f"lr = {lr:.1f}: loss {history.full_losses[-1]:.2e} after 100 epochs")
assert abs(linreg.stable_lr(x_c, "mean") - bound_mean) < 1e-12

# %% [markdown]
# **4.** On centred $x$ at half the bound, how many epochs does SGD need until the bias
# *mapped back to the original $x$* is within $10^{-3}$ of $b^* = 0$? Predict it
# first from the two factors $|1 - \alpha\lambda|$.

# %% [markdown] tags=["solution"]
# At $\alpha = 1/6$ the factors are $|1 - 6/6| = 0$ for $b_c$ and $|1 - 4/6| = 1/3$ for
# $w$: $b_c$ is exact after one epoch, but $b = b_c - w\bar{x}$ also carries $w$'s error,
# $\bar{x}\,|w_0 - 2|/3^t$. That is below $10^{-3}$ once
# $3^t > 2000\,|w_0 - 2|$.

# %% tags=["solution"]
import math

predicted = math.ceil(math.log(2000 * abs(start[0] - 2)) / math.log(3))
points, history = linreg.trajectory(
    "SGD", x_c, y, start, epochs=20, lr=bound_c / 2
)
b_original = points[:, 1] - points[:, 0] * x_mean  # b = b_c - w * mean(x)
reached = int((b_original.abs() < 1e-3).nonzero()[0, 0])
print(f"|b_c - 4| after one epoch: {abs(points[1, 1].item() - 4):.1e}")
print(f"predicted: {predicted} epochs, measured: {reached} epochs")
assert reached == predicted
