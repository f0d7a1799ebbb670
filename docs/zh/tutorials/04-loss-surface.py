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
# # 损失曲面 { #the-loss-surface }
#
# [教程 2](02-pytorch-lesson.md) 的结尾用文字勾勒过一幅图：原课的损失函数在 $(w, b)$ 平面上是一只又长又窄的碗，碗的弯曲程度由海森矩阵 $H = 2X^\top X$ 决定。[教程 3](03-optimizers.md) 则通过损失曲线比较了各个优化器。本篇把碗本身画出来，再画出每个优化器在碗里走过的路径；这些路径都由构建本页时实际运行的 `torch.optim` 算出。有了图，前两篇的数字就好理解了：SGD 为什么慢，动量为什么有用，以及为什么只需一行预处理，普通的 SGD 就能快起来。本篇最后还有一个[交互演示](#explorer)，可以自己选优化器、学习率和动量，逐轮查看每一次训练。
#
# ## 1. 碗和它的两个方向 { #the-bowl }
#
# `linreg.loss_grid` 用一次向量化运算算出 $(w, b)$ 网格上每一点的损失，`linreg.hessian` 给出曲率。本页所有训练都从原课模型的起点出发，也就是 `torch.manual_seed(0)` 给出的初始权重。

# %%
import torch

import linreg

x, y = linreg.lesson_data()
w_grid = torch.linspace(-1, 4, 200)
b_grid = torch.linspace(-1, 2.6, 200)
losses = linreg.loss_grid(x, y, w_grid, b_grid)  # (200 个 b, 200 个 w)
print("损失网格的形状：", tuple(losses.shape))

torch.manual_seed(0)
model = linreg.LinearModel()  # 原课的初始权重
start = (model.linear.weight.item(), model.linear.bias.item())
with torch.no_grad():
    model.linear.weight.fill_(w_grid[50].item())
    model.linear.bias.fill_(b_grid[80].item())
    loss = torch.nn.MSELoss(reduction="sum")(model(x), y)
print(f"网格上某一点，MSELoss 算出：{loss.item():.4f}")
print(f"同一点，loss_grid 算出：    {losses[80, 50].item():.4f}")
print(f"起点：w = {start[0]:.4f}, b = {start[1]:.4f}")

# %% [markdown]
# 碗底是闭式解 $w = 2$、$b = 0$。海森矩阵的特征向量就是碗的两条轴：沿一条轴，碗壁很陡；沿另一条轴，碗底几乎是平的。两个特征值之比称为**条件数** $\kappa$。

# %%
H = linreg.hessian(x)  # (2, 2)，float64
eigenvalues, eigenvectors = torch.linalg.eigh(H)  # 特征值从小到大
lambda_min, lambda_max = eigenvalues.tolist()
kappa = lambda_max / lambda_min
flat, steep = eigenvectors[:, 0], eigenvectors[:, 1]
steep = steep if steep[0] > 0 else -steep  # 方向的正负号可以任取
flat = flat if flat[0] > 0 else -flat
print(f"特征值：{lambda_min:.4f} 和 {lambda_max:.4f}")
print(f"陡峭方向 (w, b)：({steep[0]:.4f}, {steep[1]:.4f})")
print(f"平坦方向 (w, b)：({flat[0]:.4f}, {flat[1]:.4f})")
print(f"条件数：{kappa:.2f}")

# %% [markdown]
# 这正是教程 2 里的两个方向：沿陡峭方向走，直线同时变斜、抬高；沿平坦方向走，直线绕着数据的中心点转动，预测值几乎不变。碗沿前一个方向的弯曲程度是后一个方向的 $\kappa \approx 46$ 倍，下文的一切都源于这个比值。
#
# ## 2. SGD 走过的路径 { #sgd-paths }
#
# `linreg.trajectory` 从给定的 $(w, b)$ 出发，用真实的优化器训练，返回每一轮（epoch）结束后参数所在的点，同时返回通常的 `History`。它内部用的就是原课的训练循环（`linreg.train`），所以数字与手写循环完全相同。下面分别用原课的 `lr=0.01`，以及教程 2 中稳定上限 $2/\lambda_{\mathrm{max}}$ 的 0.9 倍和 1.1 倍运行 SGD。发散的训练一旦损失超过 `cap`（这里是 $10^6$）就停下，所以不会溢出。

# %%
bound = linreg.stable_lr(x, "sum")
sgd = {}
print(f"稳定上限 2/λmax = {bound:.4f}\n")
print(f"{'lr':>7}  {'陡峭因子':>8}  {'平坦因子':>7}  100 轮后")
for lr in [0.01, 0.9 * bound, 1.1 * bound]:
    points, history = linreg.trajectory(
        "SGD", x, y, start, epochs=100, lr=lr, cap=1e6
    )
    sgd[f"lr = {lr:.3g}"] = points
    steep_factor = abs(1 - lr * lambda_max)
    flat_factor = abs(1 - lr * lambda_min)
    row = f"{lr:7.4f}  {steep_factor:12.4f}  {flat_factor:11.4f}  "
    if history.stopped_early:
        row += f"损失超过 1e6：第 {len(history.losses) - 1} 轮"
    else:
        distance = (points[-1] - torch.tensor([2.0, 0.0])).norm()
        row += f"到最小值的距离 {distance:.4f}"
    print(row)

# %% alt="损失在 w、b 平面上的等高线图：最小值 w = 2、b = 0 周围是一圈圈又长又窄的椭圆，两个箭头分别标出陡峭方向和平坦方向。学习率 0.01 的 SGD 几轮就爬到谷底，之后沿谷底缓慢前进；学习率取上限的 0.9 倍时，路径在山谷两壁之间来回折返，然后沿谷底滑下；取上限的 1.1 倍时，每次折返都比上一次更宽，路径很快跑出图外。"
linreg.plot_surface(x, y, sgd, extent=(-0.8, 4.0, -0.9, 2.6), lang="zh")

# %% [markdown]
# 对照表中的两个因子来看这张图。`lr=0.01` 时，陡峭方向的误差每轮缩小三分之一，路径几轮之内就落到谷底；沿谷底的因子是 0.9928，于是接下来只能一点点挪向最小值，100 轮后仍然离得很远。学习率取上限的 0.9 倍时，陡峭方向的因子是 $1 - 1.8 = -0.8$：误差每轮变号，路径在山谷两壁之间来回跳，每一跳都比上一跳短 20%；同时步子变大了，沿谷底滑得快得多。取 1.1 倍时因子是 $-1.2$：每一跳都比上一跳长 20%，训练发散。
#
# ## 3. 其他优化器走过的路径 { #other-optimizers }
#
# 仍然从同一个起点出发，比较四种设置：动量为 0.9 的 SGD；`lr=0.1` 的 Adam（是教程 3 作业中的十倍，好让它在 100 轮内走出一段距离）；取默认 `lr=0.01` 的 Rprop；以及取默认 `lr=1`、但设 `max_iter=1` 的 LBFGS，这样每轮只做一次 LBFGS 迭代，路径上的每一步都看得见。

# %%
settings = {
    "SGD，动量 0.9": ("SGD", {"lr": 0.01, "momentum": 0.9}),
    "Adam，lr = 0.1": ("Adam", {"lr": 0.1}),
    "Rprop，lr = 0.01": ("Rprop", {"lr": 0.01}),
    "LBFGS，max_iter = 1": ("LBFGS", {"lr": 1, "max_iter": 1}),
}
others = {}
print(f"{'距离 < 0.001 的首轮':>16}{'100 轮后的距离':>13}  优化器")
for label, (name, hyperparameters) in settings.items():
    points, history = linreg.trajectory(
        name, x, y, start, epochs=100, **hyperparameters
    )
    others[label] = points
    distances = (points - torch.tensor([2.0, 0.0])).norm(dim=1)  # (101,)
    close = (distances < 1e-3).nonzero()
    first = f"{close[0, 0].item()}" if len(close) else "> 100"
    print(f"{first:>21}{distances[-1]:>18.2e}  {label}")

# %% alt="同样的等高线图上画着四条路径。动量为 0.9 的 SGD 绕着山谷大幅摆动，一圈圈盘旋着落进最小值；Adam 和 Rprop 一开始沿对角线前进，w 和 b 变化的幅度相同，向上冲过了山谷，再沿谷底下行；LBFGS 两步就到了谷底，随后很快到达最小值。"
linreg.plot_surface(x, y, others, extent=(-0.3, 3.1, -0.6, 2.1), lang="zh")

# %% [markdown]
# - **动量**把上一轮的速度带到下一轮：路径会大幅冲过头，但这种摆动也带着它沿平坦的谷底前进。第 4 节解释其中的道理。
# - **Adam 和 Rprop** 对每个参数分别处理，不管梯度多大，$w$ 和 $b$ 每步走的距离都差不多。所以它们的头几步沿 45° 的对角线走，完全不理会碗的形状。Rprop 在梯度符号不变时不断放大步长，最后离最小值近得多；这个学习率下的 Adam 则还在半路上。
# - **LBFGS** 根据已经见过的梯度估计曲率。第一步只是一个谨慎的梯度步，第二步就落进了谷底；再过两步，它已经测出了碗的形状（这只碗恰好是二次的），于是一步跳到碗底。
#
# ## 4. 动量与条件数 { #momentum }
#
# 带动量 $\mu$ 的 SGD 维护一个梯度的累积量 $v \leftarrow \mu v + g$，再按 $\theta \leftarrow \theta - \alpha v$ 更新参数。在这只碗里，两个特征方向各自独立演化，动量对它们的作用截然不同：
#
# - 沿**平坦**方向，梯度在相邻两轮之间几乎不变，$v$ 会逐渐累积到 $g + \mu g + \mu^2 g + \dots = g / (1 - \mu)$，步长也就变成约 $\alpha / (1 - \mu)$，$\mu = 0.9$ 时是原来的十倍。慢的方向就这样快了起来。
# - 沿**陡峭**方向，误差会冲过头，每隔几轮就变一次号，于是正负相反的梯度在 $v$ 中部分抵消：动量不会让本来就快的方向失控。
#
# 每个方向上的误差缩小得多快，是可以算出来的。对于特征值 $\lambda$，误差满足 $e_{t+1} = (1 + \mu - \alpha\lambda)\,e_t - \mu\,e_{t-1}$；方程 $z^2 - (1 + \mu - \alpha\lambda)z + \mu = 0$ 两个根中绝对值较大的那个，就是误差每轮缩小的倍数。对于二次函数，Polyak 的**重球法**（heavy ball）给出的参数能让两个方向缩小得一样快：$\mu = \left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^2$，$\alpha = \frac{4}{(\sqrt{\lambda_{\mathrm{max}}} + \sqrt{\lambda_{\mathrm{min}}})^2}$。


# %%
def rate(lr, momentum, eigenvalue):
    """沿一个特征向量方向，误差每轮缩小的倍数。"""
    b = 1 + momentum - lr * eigenvalue
    roots = torch.linalg.eigvals(
        torch.tensor([[b, -momentum], [1.0, 0.0]], dtype=torch.float64)
    )
    return roots.abs().max().item()


root_kappa = kappa**0.5
mu_polyak = ((root_kappa - 1) / (root_kappa + 1)) ** 2
lr_polyak = 4 / (lambda_max**0.5 + lambda_min**0.5) ** 2
print(f"重球法：动量 {mu_polyak:.4f}，学习率 {lr_polyak:.4f}\n")

runs = {
    "SGD": (0.01, 0.0),
    "SGD，动量 0.9": (0.01, 0.9),
    "重球法": (lr_polyak, mu_polyak),
}
curves = {}
print(f"{'陡峭方向':>6}{'平坦方向':>6}{'100 轮后的距离':>15}")
for label, (lr, momentum) in runs.items():
    points, history = linreg.trajectory(
        "SGD", x, y, start, epochs=100, lr=lr, momentum=momentum
    )
    curves[label] = history.losses
    steep_rate = rate(lr, momentum, lambda_max)
    flat_rate = rate(lr, momentum, lambda_min)
    distance = (points[-1] - torch.tensor([2.0, 0.0])).norm()
    print(f"{steep_rate:>10.4f}{flat_rate:>10.4f}{distance:>20.2e}  {label}")

# %% alt="三次训练的损失随轮数的变化，纵轴为对数刻度：普通 SGD 先迅速下降，随后缓慢下降；动量为 0.9 的 SGD 波浪式下降，越来越低；重球法先上升几轮，然后沿直线下降，是三者中最快的，不到 70 轮就降到 float32 的舍入误差底线。"
linreg.plot_comparison(curves, kind="overlay", lang="zh")

# %% [markdown]
# 动量 0.9 牺牲了陡峭方向的速度（每轮的倍数从 0.667 变成 0.949），换来了平坦方向的速度（从 0.9928 变成 0.949）：100 轮后，它到最小值的距离不到普通 SGD 的五十分之一。重球法让两个方向恰好一样快，误差每轮都乘以 $(\sqrt\kappa - 1)/(\sqrt\kappa + 1)$，速度取决于 $\sqrt\kappa$ 而不是 $\kappa$。作为对比，在这只碗里，普通梯度下降最好的情况是取 $\alpha = 2/(\lambda_{\mathrm{max}} + \lambda_{\mathrm{min}})$，误差每轮乘以 $(\kappa - 1)/(\kappa + 1)$：

# %%
print(f"普通梯度下降的最好情况：每轮 {(kappa - 1) / (kappa + 1):.4f}")
print(f"重球法：                每轮 {(root_kappa - 1) / (root_kappa + 1):.4f}")

# %% [markdown]
# ## 5. 忘记 `zero_grad` 就是动量为 1 { #forgetting-zero-grad }
#
# 教程 2 演示过：不调用 `optimizer.zero_grad()`，损失会一直来回摆动。现在可以准确说出这个循环在做什么了。`backward()` 会把新梯度**加**到 `.grad` 上，所以 $t$ 轮之后 `.grad` 里存的是 $g_1 + g_2 + \dots + g_t$。而动量 $\mu = 1$、没有阻尼的 SGD 维护的 $v \leftarrow 1 \cdot v + g$ 恰好也是这个和。所以下面两个循环应当是同一个程序；事实也的确如此，结果逐位相同：

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
    loss.backward()  # 没有 zero_grad：.grad 里是之前所有梯度之和
    optimizer_forgets.step()

    loss = criterion(model_momentum(x), y)
    optimizer_momentum.zero_grad()
    loss.backward()
    optimizer_momentum.step()

    pairs = zip(model_forgets.parameters(), model_momentum.parameters())
    identical.append(all(torch.equal(p, q) for p, q in pairs))
    w_b = torch.cat([p.detach().flatten() for p in model_forgets.parameters()])
    distances.append((w_b - torch.tensor([2.0, 0.0])).norm().item())

print("100 轮中每一轮之后都完全相同：", all(identical))
print("到最小值的距离（每 10 轮记一次）：")
print(" ".join(f"{d:.2f}" for d in distances[9::10]))
print(
    f"动量为 1 时两个方向的倍数：{rate(0.01, 1.0, lambda_max):.4f}"
    f" 和 {rate(0.01, 1.0, lambda_min):.4f}"
)

# %% [markdown]
# 为什么它永远停不下来？带动量的 SGD 就像碗里滚动的一个球，$1 - \mu$ 是它受到的摩擦：$\mu < 1$ 时，累积量每轮都会忘掉一点旧梯度，球不断减速，最后停在碗底。$\mu = 1$ 时什么也不会忘，也就完全没有摩擦：球滚过最小值，冲上对面，再滚回来，永不停歇，就像一个没有阻尼的振子。两个方向的倍数都恰好是 1：误差既不增大也不减小，只是不停地打转。
#
# ## 6. 把数据中心化 { #centring }
#
# 优化器改变不了碗的形状，改变数据却可以。之所以会有平坦方向，是因为所有 $x$ 都是正数时，$w$ 和 $b$ 的作用几乎重合：加大斜率和加大截距都会把三个预测值一起抬高。减去均值，令 $x_c = x - \bar{x}$，$X$ 的两列就正交了（因为 $\sum x_c = 0$），海森矩阵随之变成对角矩阵。

# %%
x_mean = x.mean()
x_c = x - x_mean  # -1, 0, 1
H_c = linreg.hessian(x_c)
eigenvalues_c = torch.linalg.eigvalsh(H_c).tolist()
print("中心化后的海森矩阵：", H_c.tolist())
print(f"条件数：  {kappa:.2f} -> {eigenvalues_c[1] / eigenvalues_c[0]:.2f}")
bound_c = linreg.stable_lr(x_c, "sum")
print(f"稳定上限：{bound:.4f} -> {bound_c:.4f}")

# %% [markdown]
# 中心化数据上的模型 $\hat{y} = w x_c + b_c$ 描述的还是同一族直线，不过是以另一个点为原点写出来的，所以最小值不变，换算关系是：$w$ 不变，$b = b_c - w\bar{x}$。下面从同样的初始权重出发，分别用原课的 `lr=0.01` 和新上限的一半运行 SGD，把结果换算回原来的 $x$，再与原始 $x$ 上的闭式解比较：

# %%
w_star, b_star = linreg.fit_closed_form(x, y)
centred = {}
for lr in [0.01, bound_c / 2]:
    points, history = linreg.trajectory(
        "SGD", x_c, y, start, epochs=100, lr=lr
    )
    centred[f"lr = {lr:.3g}"] = points
    w, b_c = points[-1].tolist()
    b = b_c - w * x_mean.item()  # 换算回原来的 x
    distance = ((w - w_star.item()) ** 2 + (b - b_star.item()) ** 2) ** 0.5
    print(f"lr = {lr:.4f}: w = {w:.4f}, b = {b + 0.0:.4f}, 距离 {distance:.1e}")

# %% alt="中心化后 x 的损失等高线图：最小值 w = 2、b = 4 周围的等高线几乎是正圆，代表两个方向的箭头长短相近。学习率 0.01 的 SGD 几乎沿直线走到最小值；学习率取上限一半时，第一步就把 b 调到了正确的值，之后只有 w 在变。"
linreg.plot_surface(x_c, y, centred, extent=(-1.0, 3.6, 0.2, 4.6), lang="zh")

# %% [markdown]
# 同样训练 100 轮、同样用 `lr=0.01`，中心化后到最小值的距离只有原课那次训练（第 2 节中的 0.6301）的九分之一左右。而取新上限的一半时，这个学习率用在原来的问题上会发散，在这里却能一路收敛到 float32 的精度极限。这就是实践中要对输入做标准化的原因：代价只是一次减法和一次除法，却让每个优化器都轻松得多。
#
# ## 7. 把拟合过程画出来 { #the-fit }
#
# 以上种种，说到底都是一条直线在数据点之间移动。下面是原课那次训练（SGD，`lr=0.01`）在第 0、1、5、20、100 轮后的直线：

# %%
points, history = linreg.trajectory("SGD", x, y, start, epochs=100, lr=0.01)
print(f"{'轮':>4}{'w':>9}{'b':>9}")
for epoch in [0, 1, 5, 20, 100]:
    w, b = points[epoch].tolist()
    print(f"{epoch:>5}{w:>9.4f}{b:>9.4f}")

# %% alt="三个数据点和五条直线：第 0 轮的直线几乎水平，位于 y = 0.5 附近；第 1 轮后向上倾斜；第 5 轮和第 20 轮后已经贴近数据点，但斜率偏小、截距偏大；第 100 轮后更陡、更低，接近数据点但还没有穿过它们。"
linreg.plot_fits(x, y, points, [0, 1, 5, 20, 100], lang="zh")

# %% [markdown]
# 最初几轮解决的是陡峭方向：直线整体移到数据点附近。此后的各轮都在平坦方向上慢慢挪动：直线绕着数据中部缓缓转动，斜率一点点变大，截距一点点变小。
#
# ## 8. 稳定上限附近的学习率 { #around-the-bound }
#
# 最后看学习率从上限的一半到略高于上限时 SGD 的损失曲线。损失一旦超过 $10^6$，就不再记录。

# %%
factors = [0.5, 0.9, 0.99, 1.01, 1.1]
around = {}
print(f"{'lr/上限':>6}{'lr':>8}{'陡峭方向因子':>8}  100 轮后")
for factor in factors:
    lr = factor * bound
    points, history = linreg.trajectory(
        "SGD", x, y, start, epochs=100, lr=lr, cap=1e6
    )
    around[f"{factor} × 2/λmax"] = history.losses
    row = f"{factor:>8}{lr:>8.4f}{abs(1 - lr * lambda_max):>14.4f}  "
    if history.stopped_early:
        row += f"损失超过 1e6：第 {len(history.losses) - 1} 轮"
    else:
        row += f"损失 {history.full_losses[-1]:.3g}"
    print(row)

# %% alt="五个小图，纵轴是对数刻度的损失。上限的 0.5 倍：损失先骤降，随后沿直线下降；0.9 倍：先快后慢；0.99 倍：沿直线缓慢下降；1.01 倍：沿直线缓慢上升；1.1 倍：迅速上升，不到 30 轮就超过一百万。"
linreg.plot_comparison(around, kind="grid", log=True, columns=3, lang="zh")

# %% [markdown]
# - **上限的一半**：$\alpha\lambda_{\mathrm{max}} = 1$，陡峭方向的因子是 0，第一轮就把陡峭方向的误差彻底消掉；剩下的就是平坦方向在对数刻度下那条缓慢下降的直线。
# - **0.9 倍**：陡峭方向的误差每轮变号，但在缩小；平坦方向比 0.5 倍时快。
# - **0.99 倍**：陡峭方向的因子是 0.98。参数每轮都在山谷两壁之间来回摆动，但损失是误差的平方，看不出这种摆动，只看得出摆动衰减得有多慢。
# - **1.01 倍**：因子是 1.02。发散也可以很慢：100 轮后损失只涨了五十倍左右，很容易误以为训练只是卡住了。
# - **1.1 倍**：因子是 1.2，不到 30 轮损失就超过 $10^6$。
#
# 可见最好的学习率并不是最大的稳定学习率：陡峭方向希望 $\alpha$ 离上限远一些，平坦方向希望 $\alpha$ 大一些；两者之间最好的折中 $2/(\lambda_{\mathrm{max}} + \lambda_{\mathrm{min}})$ 仍然让平坦方向很慢。要解决这个问题，可以用动量；更好的办法是把碗变圆。
#
# ## 9. 动手试一试 { #explorer }
#
# 选一个优化器，拖动学习率和动量的滑块，切换归约方式或把 $x$ 中心化，再拖动轮数滑块或点“播放”：路径会随之穿过 $L(w, b)$ 的等高线，旁边的损失曲线也同步变化。浏览器里没有做任何模拟：每条路径都是构建本页时由 `torch.optim` 从原课的起点出发实际训练出来的。网格包括 13 个学习率（0.0033 到 2.43，后一个是前一个的 $\sqrt{3}$ 倍）和 0、0.5、0.9、0.99 四种动量；Adam 和 RMSprop 的超参数取 torch 的默认值。参数和预测值四舍五入到 0.01，损失保留 2 位有效数字。学习率滑块下的标记就是第 8 节的上限 $2/\lambda_{\mathrm{max}}$：把普通 SGD 的学习率调过这个标记，看看训练怎样冲出图外。
#
# <div class="lr-explorer" id="lr-explorer">
# <link rel="stylesheet" href="../../assets/explorer/explorer.css">
# <p class="lr-explorer__nojs">这个交互演示需要 JavaScript，但浏览器禁用了 JavaScript，或者脚本没能加载。第 2 到第 8 节的图展示的是同一类训练：<code>torch.optim</code> 在等高线上实际走过的路径，以及它们的损失曲线。</p>
# </div>
# <script src="../../assets/explorer/explorer.js" defer></script>
#
# ## 小结 { #what-to-remember }
#
# - 线性模型的损失是一只碗，碗的轴就是海森矩阵的特征向量；条件数 $\kappa$ 是最陡与最平两个方向的曲率之比，衡量碗被拉得有多长。
# - 陡峭方向把学习率限制在 $2/\lambda_{\mathrm{max}}$ 以内；平坦方向则决定了最后一段路要走多久。
# - 动量能把平坦方向加速约 $1/(1 - \mu)$ 倍；Polyak 的重球法让收敛速度取决于 $\sqrt\kappa$ 而不是 $\kappa$。
# - 忘记 `zero_grad()` 就是动量为 1 的 SGD：没有摩擦，也就不会收敛。
# - 把 $x$ 中心化能让碗变圆，对每个优化器都有帮助；之后用 $b = b_c - w\bar{x}$ 把偏置换算回来。
#
# 下一篇：[小批量](05-minibatches.md)。
#
# ## 练习 { #exercises }
#
# **1.** 在 $\mu \in \{0.5, 0.55, \dots, 0.95\}$ 中，哪个动量能让 `lr=0.01` 的 SGD 用最少的轮数把损失降到 $10^{-6}$ 以下？把它和让平坦方向两个根重合的动量 $(1 - \sqrt{\alpha\lambda_{\mathrm{min}}})^2$ 比较一下。

# %% [markdown] tags=["solution"]
# 对每个动量运行一次训练，并传入一个回调函数，损失足够小时就让训练停下。记录下的损失个数就是所用的轮数。

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
print("损失降到 1e-6 以下所需的轮数：", epochs_needed)
print(f"最快的是动量 {best}（{epochs_needed[best]} 轮）")
print(f"平坦方向两个根重合时的动量：{critical:.4f}")
assert abs(best - critical) < 0.05

# %% [markdown] tags=["solution"]
# 动量小于 $(1 - \sqrt{\alpha\lambda_{\mathrm{min}}})^2$ 时，平坦方向处于过阻尼状态，只能慢慢爬；大于它时，两个方向都在振荡，误差每轮乘以 $\sqrt\mu$，$\mu$ 越大反而越慢。所以最好的 $\mu$ 就在两根重合之处。

# %% [markdown]
# **2.** 根据 $X_c^\top X_c = \begin{pmatrix} \sum x_c^2 & \sum x_c \\ \sum x_c & N \end{pmatrix}$，手算中心化后海森矩阵的条件数。

# %% [markdown] tags=["solution"]
# $x_c = -1, 0, 1$，所以 $\sum x_c^2 = 2$，$\sum x_c = 0$，$N = 3$。矩阵是对角的，$H_c = 2X_c^\top X_c$ 的特征值就是对角线上的 4 和 6，$\kappa = 6/4 = 1.5$。

# %% tags=["solution"]
sum_of_squares = sum(v * v for v in [-1.0, 0.0, 1.0])
kappa_by_hand = (2 * 3) / (2 * sum_of_squares)
kappa_torch = eigenvalues_c[1] / eigenvalues_c[0]
print(f"手算：{kappa_by_hand}，torch 算出：{kappa_torch:.4f}")
assert abs(kappa_by_hand - kappa_torch) < 1e-12

# %% [markdown]
# **3.** 对中心化后的 $x$，`reduction='mean'` 时的稳定上限是多少？分别用略低于和略高于它的学习率运行 SGD 验证一下。

# %% [markdown] tags=["solution"]
# 取平均相当于把损失除以 $N = 3$，于是 $H$ 变成 $\mathrm{diag}(4/3, 2)$，上限是 $2/2 = 1$。

# %% tags=["solution"]
bound_mean = 2 / (6 / 3)
print(f"手算：{bound_mean}，stable_lr: {linreg.stable_lr(x_c, 'mean'):.4f}")
for lr in [0.9 * bound_mean, 1.1 * bound_mean]:
    points, history = linreg.trajectory(
        "SGD", x_c, y, start, epochs=100, reduction="mean", lr=lr, cap=1e6
    )
    if history.stopped_early:
        print(f"lr = {lr:.1f}: 损失超过 1e6：第 {len(history.losses) - 1} 轮")
    else:
        print(f"lr = {lr:.1f}: 损失 {history.full_losses[-1]:.2e}（100 轮后）")
assert abs(linreg.stable_lr(x_c, "mean") - bound_mean) < 1e-12

# %% [markdown]
# **4.** 在中心化后的 $x$ 上用上限的一半作为学习率，SGD 要多少轮才能让**换算回原始 $x$ 之后**的偏置与 $b^* = 0$ 相差不到 $10^{-3}$？先用两个因子 $|1 - \alpha\lambda|$ 预测，再动手验证。

# %% [markdown] tags=["solution"]
# $\alpha = 1/6$ 时，$b_c$ 方向的因子是 $|1 - 6/6| = 0$，$w$ 方向的因子是 $|1 - 4/6| = 1/3$：一轮之后 $b_c$ 就完全正确了，但 $b = b_c - w\bar{x}$ 还含有 $w$ 的误差带来的一项 $\bar{x}\,|w_0 - 2|/3^t$。只要 $3^t > 2000\,|w_0 - 2|$，它就小于 $10^{-3}$。

# %% tags=["solution"]
import math

predicted = math.ceil(math.log(2000 * abs(start[0] - 2)) / math.log(3))
points, history = linreg.trajectory(
    "SGD", x_c, y, start, epochs=20, lr=bound_c / 2
)
b_original = points[:, 1] - points[:, 0] * x_mean  # 换算回原始 x：b = b_c - w·x̄
reached = int((b_original.abs() < 1e-3).nonzero()[0, 0])
print(f"一轮之后的 |b_c - 4|：{abs(points[1, 1].item() - 4):.1e}")
print(f"预测：{predicted} 轮，实测：{reached} 轮")
assert reached == predicted
