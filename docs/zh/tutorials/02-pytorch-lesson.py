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
# 本篇重现课程《PyTorch深度学习实践》的第 5 讲（本站简称“原课”），代码按当前版本的 torch 重写，本站每次构建时都会运行一遍。我们仍在教程 1 的三个点上训练 $\hat{y} = wx + b$，这次改用 PyTorch 提供的组件：一个 `Module`、一个损失对象和一个优化器。整个流程分四步，以后你写的每个模型都遵循这一流程：
#
# 1. 准备数据；
# 2. 把模型设计成 `torch.nn.Module` 的子类；
# 3. 选择损失函数和优化器；
# 4. 编写训练循环：前向传播、计算损失、`zero_grad`、反向传播、`step`。
#
# ## 1. 数据 { #1-the-data }
#
# 每行是一个样本，每列是一个特征，所以一个特征、三个样本就构成形状为 `(3, 1)` 的张量。写成 `1.0` 而不是 `1`，张量的类型才是 `nn.Linear` 所需的 `float32`（写成整数会怎样，见教程 5）。

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
print("权重的形状:", model.linear.weight.shape, " 偏置的形状:", model.linear.bias.shape)
print(f"w 的初始值 = {model.linear.weight.item():.4f}")
print(f"b 的初始值 = {model.linear.bias.item():.4f}")

# %% [markdown]
# 权重的形状是 `(out_features, in_features)`，偏置的形状是 `(out_features,)`。它们的初始值是随机的；`torch.manual_seed(0)` 让每次运行的初始值都相同，所以本页的数字在你的电脑上也能复现。
#
# ## 3. 损失函数与优化器 { #3-the-loss-and-the-optimizer }
#
# 和教程 1 一样，原课把误差平方加起来作为损失。在当前版本的 torch 中，这写作 `MSELoss(reduction="sum")`。

# %%
criterion = torch.nn.MSELoss(reduction="sum")
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

# %% [markdown]
# 原课代码写的是 `MSELoss(size_average=False)`。这个参数已弃用：torch 仍然接受它，会把它换算成相应的 `reduction`，同时发出警告。用构建本页的 torch 运行这种旧写法，输出如下：

# %% tags=["warns"]
legacy = torch.nn.MSELoss(size_average=False)
print("实际的 reduction:", legacy.reduction)

# %% [markdown]
# `model.parameters()` 把允许优化器修改的张量全部交给优化器，这里就是权重和偏置。`lr=0.01` 的 `SGD` 会按 $\theta \leftarrow \theta - 0.01 \cdot \partial L / \partial \theta$ 更新其中每一个参数。
#
# ## 4. 训练循环 { #4-the-training-loop }
#
# 每一轮（epoch）都执行同样的五行代码。（原笔记，即一位学习者为原课整理的笔记，在这里调用的是未定义的 `criterion1`，损失对象的名字其实是 `criterion`。）

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
print(f"x = 4 处的预测值: {y_test.item():.6f}")

# %% alt="原课模型的损失曲线，横轴为轮数：用学习率为 0.01 的 SGD 训练 100 轮，损失在前几轮急剧下降，之后缓慢下降。"
linreg.plot_loss(losses, title="SGD，lr = 0.01", lang="zh")

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
print(f"100 轮后的 w: {w_no_zero:.4f}（不调用 zero_grad）")
print(f"              {model.linear.weight.item():.4f}（调用 zero_grad）")

# %% alt="对数坐标下的两条损失曲线：调用 zero_grad 时损失稳步下降；不调用时损失在 100 轮里始终大起大落，大部分时间远高于前者，一直稳定不下来。"
linreg.plot_comparison(
    {"调用 zero_grad()": losses, "不调用 zero_grad()": losses_no_zero},
    kind="overlay",
    lang="zh",
)

# %% [markdown]
# 累积下来的梯度不断把参数往旧的方向推，参数于是冲过了头，来回摆动，迟迟稳定不下来。
#
# ## 用 `linreg` 一次调用完成 { #the-same-in-one-call-with-linreg }
#
# 本站背后的包把这套流程封装了起来。`linreg.train` 执行的正是原课的循环，连顺序都一样，所以从同一个随机种子出发，它给出的数字与上面**完全相同**，而不只是接近：

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

print("损失完全相同:", history.losses == losses)
print(
    "w 和 b 完全相同:",
    torch.equal(history.weight, model.linear.weight),
    torch.equal(history.bias, model.linear.bias),
)

# %% [markdown]
# 在终端中运行 `linreg train`，做的是同样的训练，打印出的 $w$ 和 $b$ 也一样。
#
# ## 离最优解还有多远？为什么？ { #how-far-from-the-best-answer-and-why }
#
# 教程 1 中的闭式解是 $w = 2$、$b = 0$。训练 100 轮之后，我们离它还有一段距离：

# %%
w_star, b_star = linreg.fit_closed_form(x_data, y_data)
theta = torch.cat([model.linear.weight.flatten(), model.linear.bias]).double()
theta_star = torch.cat([w_star.flatten(), b_star]).double()
print("学到的 (w, b):", [round(v, 4) for v in theta.tolist()])
print(
    "闭式解 (w, b):", [round(v, 4) + 0.0 for v in theta_star.tolist()]
)  # 加上 0.0，免得打印出 "-0.0"

# %% [markdown]
# 损失函数是 $(w, b)$ 的二次函数，图像像一只碗。碗的曲率处处相同，由海森矩阵（Hessian）$H = 2X^\top X$ 给出；这里的 $X$ 是在 `x_data` 右边添上一列 1（对应偏置）得到的矩阵。设 $\lambda$ 是 $H$ 的一个特征值，沿它对应的特征向量方向，梯度下降每轮都把到最小值点的距离乘以 $|1 - \alpha\lambda|$。这只碗又长又窄：一个方向很陡，另一个方向几乎是平的。

# %%
X = torch.cat([x_data, torch.ones(3, 1)], dim=1).double()  # (3, 2)
H = 2 * X.T @ X  # (2, 2)，在任何 (w, b) 处都一样
eigenvalues = torch.linalg.eigvalsh(H)
lr = 0.01
print("H 的特征值:    ", [round(v, 4) for v in eigenvalues.tolist()])
print(
    "每轮的缩小因子:",
    [round(v, 4) for v in (1 - lr * eigenvalues).abs().tolist()],
)

# %% [markdown]
# 沿陡峭方向，误差每轮缩小三分之一；沿平坦方向，每轮缩小不到百分之一。对二次损失做梯度下降，每一轮都是把误差（参数与最优解之差）乘以同一个矩阵 $I - \alpha H$，所以最终误差甚至可以精确预测：用 $(I - \alpha H)^{100}$ 乘以初始误差即可。

# %%
torch.manual_seed(0)
theta_0 = torch.cat(
    [p.detach().flatten() for p in LinearModel().parameters()]
).double()
predicted = torch.linalg.matrix_power(
    torch.eye(2, dtype=torch.float64) - lr * H, 100
) @ (theta_0 - theta_star)
print(
    "100 轮后的误差（预测）:",
    [round(v, 4) for v in predicted.tolist()],
)
print(
    "100 轮后的误差（实际）:",
    [round(v, 4) for v in (theta - theta_star).tolist()],
)

# %% [markdown]
# 那为什么不干脆用更大的学习率？因为陡峭的方向给它设了上限：一旦 $\alpha\lambda_{\max} > 2$，因子 $|1 - \alpha\lambda_{\max}|$ 就大于 1，误差在这个方向上每轮都会**增大**。`linreg.stable_lr` 计算的就是这个上限 $2/\lambda_{\max}$：

# %%
bound = linreg.stable_lr(x_data, "sum")
bound_mean = linreg.stable_lr(x_data, "mean")
flat_factor = 1 - bound * eigenvalues[0].item()
print(f"最大稳定学习率，reduction='sum':  {bound:.4f}")
print(f"最大稳定学习率，reduction='mean': {bound_mean:.4f}")
print(f"该学习率下平坦方向的因子:         {flat_factor:.4f}")

# %% [markdown]
# 使用 `reduction='mean'` 时，损失及其梯度都要除以 $N = 3$，上限因此变为原来的三倍：要迈出同样大的步子，学习率得放大 $N$ 倍。而且即使取到上限，平坦方向每轮也只缩小百分之几。这就是所谓的**条件数**（condition number）问题；教程 3 会展示其他优化器如何应对它。
#
# ## 小结 { #what-to-remember }
#
# - 流程：准备数据；定义包含 `__init__` 和 `forward` 的 `Module`；选好损失函数和优化器；然后循环执行 `forward → loss → zero_grad → backward → step`。
# - `MSELoss(reduction="sum")` 取代了已弃用的 `size_average=False`。
# - 忘记调用 `zero_grad()`，梯度就会不断累积。
# - 学习率的上限由损失函数最陡的方向决定，而最平坦的方向决定了最后一段收敛有多慢。
#
# 下一篇：[课后作业：比较优化器](03-optimizers.md)。
