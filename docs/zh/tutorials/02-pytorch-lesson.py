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
# # 用 PyTorch 实现线性回归：重现原课 { #linear-regression-with-pytorch-the-lesson }
#
# 本篇重现课程《PyTorch深度学习实践》的第 5 讲（本站简称“原课”），代码按当前版本的 torch 重写，本站每次构建时都会运行一遍。我们仍在教程 1 的三个点上训练 $\hat{y} = wx + b$，这次改用 PyTorch 提供的组件：一个 `Module`、一个损失对象和一个优化器。整个流程分四步，你以后写的每个模型都照此进行：
#
# 1. 准备数据；
# 2. 把模型设计成 `torch.nn.Module` 的子类；
# 3. 选择损失函数和优化器；
# 4. 编写训练循环：前向传播、计算损失、`zero_grad`、反向传播、`step`。
#
# ## 1. 数据 { #1-the-data }
#
# 每行是一个样本，每列是一个特征，所以一个特征、三个样本就构成形状为 `(3, 1)` 的张量。写成 `1.0` 而不是 `1`，张量的类型才是 `nn.Linear` 所需的 `float32`（写成整数会怎样，见[教程 6](06-pitfalls.md)）。

# %%
import torch

import linreg

x_data = torch.tensor([[1.0], [2.0], [3.0]])
y_data = torch.tensor([[2.0], [4.0], [6.0]])
print(x_data.shape, x_data.dtype)

# %% [markdown]
# ## 2. 模型 { #2-the-model }
#
# 模型是一个继承自 `torch.nn.Module` 的类，需要实现两个方法：
#
# - `__init__` 创建各个层。`torch.nn.Linear(1, 1)` 包含一个权重和一个偏置，计算 `x @ weight.T + bias`，把一个输入特征映射为一个输出。
# - `forward` 描述输入如何变成预测值。
#
# 这里没有 `backward` 方法。`forward` 运行时，自动求导（autograd）会记录其中的每一步运算，并据此求出梯度，所以反向传播不用自己写。


# %%
class LinearModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)  # in_features=1, out_features=1

    def forward(self, x):
        y_pred = self.linear(x)  # (N, 1) -> (N, 1)
        return y_pred


torch.manual_seed(0)  # 每次构建本页，初始权重都相同
model = LinearModel()
print(model)
print("权重的形状：", model.linear.weight.shape, " 偏置的形状：", model.linear.bias.shape)
print(f"w 的初始值 = {model.linear.weight.item():.4f}")
print(f"b 的初始值 = {model.linear.bias.item():.4f}")

# %% [markdown]
# 权重的形状是 `(out_features, in_features)`，偏置的形状是 `(out_features,)`。它们的初始值是随机的；`torch.manual_seed(0)` 让每次运行的初始值都相同，所以本页的数字在你的电脑上也能复现。
#
# ## 3. 损失函数与优化器 { #3-the-loss-and-the-optimizer }
#
# 和教程 1 一样，原课以误差平方和作为损失，在当前版本的 torch 中写作 `MSELoss(reduction="sum")`。

# %%
criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

# %% [markdown]
# 原笔记（一位学习者为原课整理的笔记）写的是 `MSELoss(size_average=False)`。这个参数已弃用：torch 仍然接受它，会把它换算成相应的 `reduction`，同时发出警告。用构建本页的 torch 运行这种旧写法，输出如下：

# %% tags=["warns"]
legacy = torch.nn.MSELoss(size_average=False)
print("实际的 reduction：", legacy.reduction)

# %% [markdown]
# `model.parameters()` 把优化器可以修改的张量全部交给它，这里就是权重和偏置。`lr=0.01` 的 `SGD` 会按 $\theta \leftarrow \theta - 0.01 \cdot \partial L / \partial \theta$ 更新其中每一个参数。
#
# ## 4. 训练循环 { #4-the-training-loop }
#
# 每一轮（epoch）都执行同样的五行代码。（原笔记在这里调用了未定义的 `criterion1`；损失对象的名字其实是 `criterion`。）

# %%
losses = []
for epoch in range(100):
    y_pred = model(x_data)  # 前向传播：(3, 1)
    loss = criterion(y_pred, y_data)  # 标量张量
    losses.append(loss.item())
    if epoch % 10 == 0 or epoch == 99:
        print(f"第 {epoch:3d} 轮  损失 {loss.item():.6f}")

    optimizer.zero_grad()  # 清掉上一步留下的梯度
    loss.backward()  # 计算 dL/dw 和 dL/db，存入 .grad
    optimizer.step()  # w -= lr * w.grad, b -= lr * b.grad

# %% [markdown]
# 训练结束后，读出参数，并预测 $x = 4$ 处的 $y$。预测不需要梯度，所以放在 `torch.no_grad()` 中运行；`.item()` 把只含一个元素的张量转换为 Python 数值。

# %%
print(f"w = {model.linear.weight.item():.6f}")
print(f"b = {model.linear.bias.item():.6f}")

x_test = torch.tensor([[4.0]])
with torch.no_grad():
    y_test = model(x_test)
print(f"x = 4 处的预测值：{y_test.item():.6f}")

# %% [markdown]
# 想看整个训练过程，可以像原笔记那样用 matplotlib 画出损失列表。这几行代码放进你自己的脚本里同样能用：在脚本中，`plt.show()` 会弹出一个窗口；在 Notebook 中，图直接显示在单元格下方。

# %% alt="原课模型的损失曲线，横轴为轮数：用学习率为 0.01 的 SGD 训练 100 轮，损失在前几轮急剧下降，之后缓慢下降。"
import matplotlib.pyplot as plt

plt.plot(losses)
plt.xlabel("轮（epoch）")
plt.ylabel("损失")
plt.title("SGD，lr = 0.01")
plt.show()

# %% [markdown]
# 本站的 `linreg` 包一次调用就能画出同样的曲线：`linreg.plot_loss(losses, lang="zh")`，还会加上浅色网格，坐标轴标签用你指定的语言；其余几篇教程都用它画图。

# %% [markdown]
# ## 为什么要调用 `zero_grad`？ { #why-zero_grad }
#
# `backward()` 不会覆盖 `.grad`，而是把新梯度累加到已有的值上。一个梯度要分几部分算出再相加时，这很有用；但在这个循环里，每一步只需要当前损失的梯度。不调用 `zero_grad()`，每一步用的就是此前所有梯度之和。下面用同一个模型、同样的起点，只删掉这一行：

# %%
torch.manual_seed(0)
model_no_zero = LinearModel()
optimizer_no_zero = torch.optim.SGD(model_no_zero.parameters(), lr=0.01)
losses_no_zero = []
for epoch in range(100):
    loss = criterion(model_no_zero(x_data), y_data)
    losses_no_zero.append(loss.item())
    loss.backward()  # 梯度在 .grad 中越积越多
    optimizer_no_zero.step()

print(f"{'轮':>4}  {'调用 zero_grad':>12}  {'不调用':>5}")
for epoch in range(6):
    print(f"{epoch:5d}  {losses[epoch]:14.4f}  {losses_no_zero[epoch]:8.4f}")
w_no_zero = model_no_zero.linear.weight.item()
print(f"100 轮后的 w：{w_no_zero:.4f}（不调用 zero_grad）")
print(f"              {model.linear.weight.item():.4f}（调用 zero_grad）")

# %% alt="对数坐标下的两条损失曲线：调用 zero_grad 时损失稳步下降；不调用时损失在 100 轮里始终大起大落，大部分时间远高于前者，一直稳定不下来。"
linreg.plot_comparison(
    {"调用 zero_grad()": losses, "不调用 zero_grad()": losses_no_zero},
    kind="overlay",
    lang="zh",
)

# %% [markdown]
# 累积的梯度不断把参数往旧的方向推，参数于是冲过了头，来回摆动，始终稳定不下来。这种现象其实有个名字：忘记调用 `zero_grad()`，普通的 SGD 就变成了动量为 1、没有阻尼的带动量 SGD，每一步走的都是此前所有梯度之和。教程 4（[损失曲面](04-loss-surface.md#forgetting-zero-grad)）会逐位验证两者完全相同，并解释为什么动量为 1 时永远停不下来。
#
# ## 用 `linreg` 一次调用完成 { #the-same-in-one-call-with-linreg }
#
# 本站的 `linreg` 包封装了这套流程。`linreg.train` 执行的正是原课的循环，连顺序都一样，所以从同一个随机种子出发，它给出的数字与上面**完全相同**，而不只是接近：

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

print("损失完全相同：", history.losses == losses)  # 列表的 == 是精确比较
print(
    "w 和 b 完全相同：",
    torch.equal(history.weight, model.linear.weight),
    torch.equal(history.bias, model.linear.bias),
)

# %% [markdown]
# 这里该用要求每一位都相同的 `torch.equal`：要说明的正是 `linreg.train` 按同样的顺序执行同样的运算，连舍入误差都不会有差别。如果比较的是用**不同**方法算出的同一个数（下文就有这样的例子），就应当用 `torch.allclose`。
#
# 在终端中运行 `linreg train`，做的是同样的训练，打印出的 $w$ 和 $b$ 也一样。
#
# ## 离最优解还有多远？为什么？ { #how-far-from-the-best-answer-and-why }
#
# 教程 1 中的闭式解是 $w = 2$、$b = 0$。训练 100 轮后，离它还有一段距离。要拿参数做计算，先用 `.detach()` 把它们读成普通张量，这样后续运算就不会记入模型的自动求导记录：

# %%
w_star, b_star = linreg.fit_closed_form(x_data, y_data)
weight, bias = model.linear.weight.detach(), model.linear.bias.detach()
theta = torch.cat([weight.flatten(), bias]).double()  # (2,)：w, b
theta_star = torch.cat([w_star.flatten(), b_star]).double()
print("学到的 (w, b)：", [round(v, 4) for v in theta.tolist()])
print(
    "闭式解 (w, b)：", [round(v, 4) + 0.0 for v in theta_star.tolist()]
)  # 加 0.0：b* 只是 1e-15 量级的舍入误差，显示为 0.0 而不是 -0.0

# %% [markdown]
# 偏置离 0 反而比出发时更远了（它的初始值是 0.5364）。要弄清原因，得看看损失函数的形状。损失是 $(w, b)$ 的二次函数，图像像一只碗，碗的曲率处处相同，由**海森矩阵** $H = 2X^\top X$ 给出；这里的 $X$ 是在 `x_data` 右边添上一列 1（对应偏置）得到的矩阵。设 $\lambda$ 是 $H$ 的一个特征值，沿它对应的特征向量方向，梯度下降每轮都把到最小值点的距离乘以 $1 - \alpha\lambda$。最大特征值与最小特征值之比
#
# $$
# \kappa = \frac{\lambda_{\mathrm{max}}}{\lambda_{\mathrm{min}}}
# $$
#
# 称为 $H$ 的**条件数**，它衡量这只碗最陡的方向比最平的方向陡多少倍。

# %%
X = torch.cat([x_data, torch.ones(3, 1)], dim=1).double()  # (3, 2)
H = 2 * X.T @ X  # (2, 2)，在任何 (w, b) 处都一样
# eigh：特征值按升序排列，特征向量按列排列
eigenvalues, eigenvectors = torch.linalg.eigh(H)
eigenvectors = eigenvectors * eigenvectors[0].sign()  # 正负号可任取：让 w 分量为正
flat, steep = eigenvectors[:, 0], eigenvectors[:, 1]  # 各为 (w, b)
kappa = eigenvalues[1] / eigenvalues[0]
lr = 0.01
print("H 的特征值：     ", [round(v, 4) for v in eigenvalues.tolist()])
print("平坦方向 (w, b)：", [round(v, 4) for v in flat.tolist()])
print("陡峭方向 (w, b)：", [round(v, 4) for v in steep.tolist()])
print(f"条件数 κ：        {kappa.item():.1f}")
print(
    "每轮的缩小因子： ",
    [round(v, 4) for v in (1 - lr * eigenvalues).abs().tolist()],
)

# %% [markdown]
# 这只碗在一个方向上比另一个方向陡 46 倍。陡峭方向让 $w$ 和 $b$ 同增同减，以 $w$ 为主：直线一边变斜一边抬高，三个预测值朝同一个方向变化，损失涨得很快。平坦方向则让 $w$ 和 $b$ **此消彼长**：$b$ 减小的量是 $w$ 增大的量的 2.27 倍。这几乎就是让直线绕数据的中心点 $(\bar{x}, \bar{y}) = (2, 4)$ 转动：$w$ 增大 $\delta$、$b$ 减小 $2\delta$，每个预测值的变化是 $\delta x - 2\delta = \delta(x - 2)$，在 $x = 2$ 处纹丝不动，另外两个点也只变化 $\mp\delta$，损失几乎不变。下面从最小值点出发，沿各个方向走同样长的一步（长度 0.1）：

# %%
def loss_at(theta):  # 原课的损失函数在 theta = (w, b) 处的值
    y_pred = X @ theta  # (3, 2) @ (2,) -> (3,)
    return ((y_pred - y_data.double().flatten()) ** 2).sum().item()


step = 0.1
rotation = torch.tensor([1.0, -2.0], dtype=torch.float64) / 5**0.5  # 长度为 1
for name, direction in [
    ("陡峭方向的特征向量", steep),
    ("平坦方向的特征向量", flat),
    ("(1, -2) / sqrt(5) ", rotation),
]:
    rise = loss_at(theta_star + step * direction) - loss_at(theta_star)
    print(f"{name}：损失增加 {rise:.4f}")

change = X @ torch.tensor([0.1, -0.2], dtype=torch.float64)  # w 加 0.1，b 减 0.2
print("预测值的变化：", [round(v, 4) for v in change.tolist()])

# %% [markdown]
# 同样长的一步，沿平坦方向的特征向量走，损失的增量只有沿陡峭方向的 1/46（又是 $\kappa$：在最小值点附近，增量是 $\frac{1}{2}\lambda \cdot 0.1^2$）；绕中心点转动也差不多一样“便宜”。梯度就是坡度，平坦方向上坡度极小，梯度下降在这个方向上也就走得极慢：误差沿这个方向每轮只缩小为原来的 0.9928 倍，100 轮后还剩一半左右；陡峭方向上的误差则早就消失了（0.6672 的 100 次方）。于是剩下的误差几乎全在平坦方向的特征向量上：$b$ 偏高的量是 $w$ 偏低的量的 2.27 倍。这正是教程 1 中 $b$ 在 100 轮后仍有 0.27、本页则有 0.58 的原因。
#
# 对二次损失做梯度下降，每一轮都是把误差（参数与最优解之差）乘以同一个矩阵 $I - \alpha H$，所以最终误差甚至可以精确预测：用 $(I - \alpha H)^{100}$ 乘以初始误差即可。

# %%
torch.manual_seed(0)
theta_0 = torch.cat(
    [p.detach().flatten() for p in LinearModel().parameters()]
).double()
M = torch.linalg.matrix_power(torch.eye(2, dtype=torch.float64) - lr * H, 100)
predicted = M @ (theta_0 - theta_star)
error = theta - theta_star
print(
    "100 轮后的误差（预测）：",
    [round(v, 4) for v in predicted.tolist()],
)
print("100 轮后的误差（实际）：", [round(v, 4) for v in error.tolist()])
print("预测正确：", torch.allclose(predicted, error, atol=1e-5))
print(f"b 的误差 / w 的误差：{(error[1] / error[0]).item():.2f}")
print(f"平坦方向特征向量的 b / w：{(flat[1] / flat[0]).item():.2f}")
start_1 = torch.tensor([0.5, 0.0], dtype=torch.float64)  # 教程 1 的起点
print(
    "教程 1 的 (w, b)（预测）：",
    [round(v, 4) for v in (theta_star + M @ (start_1 - theta_star)).tolist()],
)

# %% [markdown]
# 预测与实际训练的结果在 float32 的舍入误差范围内一致（训练用 float32，预测用 float64），所以这里用 `allclose` 比较。最后一行从教程 1 的起点出发，预测出了教程 1 手算 100 轮得到的 $w$ 和 $b$。
#
# 那为什么不干脆用更大的学习率？因为陡峭的方向给它设了上限：一旦 $\alpha\lambda_{\mathrm{max}} > 2$，因子 $|1 - \alpha\lambda_{\mathrm{max}}|$ 就大于 1，误差在这个方向上每轮都会**增大**。`linreg.stable_lr` 计算的就是这个上限 $2/\lambda_{\mathrm{max}}$：

# %%
bound = linreg.stable_lr(x_data, "sum")
bound_mean = linreg.stable_lr(x_data, "mean")
flat_factor = 1 - bound * eigenvalues[0].item()
print(f"最大稳定学习率，reduction='sum':  {bound:.4f}")
print(f"最大稳定学习率，reduction='mean': {bound_mean:.4f}")
print(f"该学习率下平坦方向的因子：        {flat_factor:.4f}")

# %% [markdown]
# 使用 `reduction='mean'` 时，损失及其梯度都要除以 $N = 3$，上限因此变为原来的三倍：要迈出同样大的步子，学习率得放大 $N$ 倍。而且即使取到上限，平坦方向每轮也只缩小百分之几，最好也不过乘以 $1 - 2/\kappa$。这就是所谓的**条件数**问题。教程 3 会展示其他优化器如何应对它；教程 4（[损失曲面](04-loss-surface.md)）会画出这只碗和各种优化器在碗里走过的路径，并介绍两种对策：动量，以及把 $x$ 中心化，让碗变得圆得多。想亲手试试上限两侧的学习率，可以到教程 4 的[交互演示](04-loss-surface.md#explorer)里拖动滑块，看看实际训练的结果。
#
# ## 小结 { #what-to-remember }
#
# - 流程：准备数据；定义包含 `__init__` 和 `forward` 的 `Module`；选好损失函数和优化器；然后循环执行 `forward → loss → zero_grad → backward → step`。
# - `MSELoss(reduction="sum")` 取代了已弃用的 `size_average=False`。
# - 忘记调用 `zero_grad()`，梯度就会不断累积，相当于动量为 1 的 SGD。
# - 学习率的上限由损失函数最陡的方向决定，而最平坦的方向决定了最后一段收敛有多慢；两者之比就是条件数 $\kappa$。
#
# 下一篇：[课后作业：比较优化器](03-optimizers.md)。
#
# ## 练习 { #exercises }
#
# **1.** 使用 `reduction='mean'` 时，梯度要除以 $N = 3$。学习率取多少，`'mean'` 才能和 `lr=0.01` 的 `'sum'` 走出完全一样的步子？两者都从 `torch.manual_seed(0)` 出发训练 100 轮，比较得到的参数。

# %% [markdown] tags=["solution"]
# 每一步的步长是学习率乘以梯度，而 `'mean'` 的梯度只有 `'sum'` 的三分之一，所以学习率要放大三倍，取 0.03。这样两者的参数走的是同一条路，损失则相差 3 倍。两次训练的中间计算并不相同（一个是梯度先除以 3 再乘 0.03，另一个是直接乘 0.01），所以应当用 `torch.allclose` 比较。

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
print(f"'mean' 的学习率：{lr_mean:.2f}")
print("w 和 b 相同：", same)
loss_sum, loss_mean = runs["sum"].final_loss, runs["mean"].final_loss
print(f"最终损失：{loss_sum:.4f}（sum），{loss_mean:.4f}（mean）")
assert abs(lr_mean - 0.03) < 1e-12 and same

# %% [markdown]
# **2.** `reduction='mean'` 时最大的稳定学习率是多少？先由 $H$ 推出来，再与 `linreg.stable_lr(x_data, "mean")` 比较。

# %% [markdown] tags=["solution"]
# `'mean'` 的损失是 `'sum'` 的损失除以 $N$，所以它的海森矩阵是 $H/N$，最大特征值是 $\lambda_{\mathrm{max}}/N$。上限 $2N/\lambda_{\mathrm{max}}$ 因此是 `'sum'` 的 $N$ 倍：约 0.18，而不是 0.06。

# %% tags=["solution"]
lambda_max_mean = torch.linalg.eigvalsh(H / len(x_data))[-1].item()
bound_by_hand = 2 / lambda_max_mean
print(f"2 / lambda_max(H / 3) = {bound_by_hand:.4f}")
print(f"linreg.stable_lr:       {linreg.stable_lr(x_data, 'mean'):.4f}")
assert abs(bound_by_hand - linreg.stable_lr(x_data, "mean")) < 1e-12
assert abs(bound_by_hand - 3 * bound) < 1e-12

# %% [markdown]
# **3.** 按原课的设置（`'sum'`、`lr=0.01`、随机种子 0）训练，要多少轮才能让 $|b| < 0.01$？先用平坦方向的缩小因子预测，再实际训练数一数。

# %% [markdown] tags=["solution"]
# 几十轮之后，误差只剩平坦方向的部分，于是 $b - b^* \approx c\,v_b\,\rho^t$：其中 $c$ 是初始误差在平坦方向特征向量 $v$ 上的分量，$v_b$ 是这个特征向量的 $b$ 分量，$\rho = 1 - \alpha\lambda_{\mathrm{min}}$。由于 $b^* \approx 0$，只要求出使 $|c\,v_b|\,\rho^t < 0.01$ 成立的最小整数 $t$。结果是原课 100 轮的六倍多，而且预测与实际数出来的轮数分毫不差。

# %% tags=["solution"]
import math

rho = 1 - lr * eigenvalues[0].item()  # 平坦方向每轮的缩小因子
c = (flat @ (theta_0 - theta_star)).item()
b_part = abs(c * flat[1].item())  # t = 0 时 |b - b*| 中平坦方向的部分
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
print(f"预测：{predicted_epochs} 轮，实际：{epochs} 轮")
assert epochs == predicted_epochs

# %% [markdown]
# **4.** 用 `reduction='mean'` 训练，学习率分别取练习 2 所得上限的 98% 和 102%。100 轮后损失各是多少？

# %% [markdown] tags=["solution"]
# 学习率取 $f \cdot 2/\lambda_{\mathrm{max}}$ 时，陡峭方向的因子是 $|1 - 2f|$：略低于上限时为 0.96，损失下降；略高于上限时为 1.04，误差沿陡峭方向每轮增大 4%，100 轮累计放大约 50 倍。损失随误差的平方增长，最后比起点高出两千多倍。

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
        f"lr = {factor} × 上限 = {factor * bound_mean:.4f}："
        f"损失 {history_f.losses[0]:.4f} -> {finals[factor]:.4g}（100 轮）"
    )
assert finals[0.98] < history_f.losses[0] < finals[1.02]
