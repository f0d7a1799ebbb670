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
# # 常见陷阱 { #pitfalls }
#
# 下面是初学原课内容时常犯的八个错误。每个错误都实际运行一遍，附上当前安装的 torch 给出的真实报错或警告信息，以及修正方法。有些错误会立即报错；更危险的那些只发出一条警告，甚至一声不吭，直接算出错误的结果。

# %%
import torch

import linreg

x, y = linreg.lesson_data()
torch.manual_seed(0)
model = linreg.LinearModel()
criterion = torch.nn.MSELoss(reduction="sum")

# %% [markdown]
# ## 1. 名字拼错 { #1-a-typo-in-a-name }
#
# 原笔记（一位学习者为原课整理的笔记）创建的是 `criterion`，调用的却是 `criterion1`。Python 要等运行到这一行才会发现：

# %% tags=["raises-exception"]
loss = criterion1(model(x), y)

# %% [markdown]
# **修正**：调用你创建的那个对象，即 `criterion(model(x), y)`。重启内核后把 Notebook 从头到尾运行一遍，就能赶在别人之前发现这类遗留问题。
#
# ## 2. 已弃用的 `size_average` { #2-the-deprecated-size_average }
#
# `size_average` 和 `reduce` 是旧版 torch 中损失函数的参数。它们仍然可用，但会发出警告；如果和 `reduction` 同时传入，它们会覆盖 `reduction`：

# %% tags=["warns"]
criterion_old = torch.nn.MSELoss(size_average=False, reduction="mean")
print("实际使用的 reduction:", criterion_old.reduction)

# %% [markdown]
# **修正**：只写 `reduction`。`size_average=False` 对应 `"sum"`，默认行为对应 `"mean"`，`reduce=False` 对应 `"none"`。
#
# ## 3. 目标值的形状是 `(N,)` 而不是 `(N, 1)` { #3-targets-of-shape-n-instead-of-n-1 }
#
# 模型返回的预测值形状为 `(3, 1)`。如果目标值是形状为 `(3,)` 的一维张量，损失函数内部的减法会把两者**广播**成 `(3, 3)`：每个预测值都要和每个目标值比较。下面的预测完全正确，损失却不为零：

# %% tags=["warns"]
y_pred = torch.tensor([[2.0], [4.0], [6.0]])  # (3, 1)，完全正确
y_flat = torch.tensor([2.0, 4.0, 6.0])  # (3,)
print(
    "目标值形状为 (3, 1) 时的损失:",
    criterion(y_pred, y_flat.reshape(-1, 1)).item(),
)
print("目标值形状为 (3,) 时的损失:  ", criterion(y_pred, y_flat).item())
print("两者之差的形状:              ", (y_pred - y_flat).shape)

# %% [markdown]
# torch 只是发出警告；用这样的损失训练，会悄无声息地学出一条错误的直线。`linreg` 则直接拒绝，并说明如何修正：

# %% tags=["raises-exception"]
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
linreg.train(model, x, y_flat, criterion, optimizer, epochs=100)

# %% [markdown]
# **修正**：让目标值保持二维，写成 `y.reshape(-1, 1)`（或 `y.unsqueeze(1)`）。
#
# ## 4. 忘记调用 `zero_grad()` { #4-forgetting-zero_grad }
#
# `backward()` 会把梯度**累加**到 `.grad` 上。两次反向传播之间不清零，得到的就是两倍的梯度：

# %%
w = torch.tensor(1.0, requires_grad=True)
(3 * w).backward()
print("一次 backward 后:", w.grad.item())
(3 * w).backward()
print("两次 backward 后:", w.grad.item())
w.grad.zero_()
print("zero_() 之后:    ", w.grad.item())

# %% [markdown]
# 在训练循环中，这会让每一步用的都是之前所有梯度之和；[教程 2](02-pytorch-lesson.md) 展示了损失因此上下摆动的情形。**修正**：每一步调用一次 `optimizer.zero_grad()`，放在 `loss.backward()` 之前。
#
# ## 5. `LBFGS` 缺少闭包（closure） { #5-lbfgs-without-a-closure }
#
# 大多数优化器根据 `.grad` 中已有的梯度走一步。`LBFGS` 每走一步都要多次计算损失，所以需要一个能完成这项计算的函数，也就是闭包：

# %% tags=["raises-exception"]
optimizer = torch.optim.LBFGS(model.parameters())
loss = criterion(model(x), y)
loss.backward()
optimizer.step()

# %% [markdown]
# **修正**：传入一个闭包，在其中清零梯度、计算损失、调用 `backward()`，并返回损失：


# %%
def closure():
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    return loss


for step in range(3):
    print(f"第 {step} 步: 损失 {optimizer.step(closure).item():.6f}")

# %% [markdown]
# `linreg.train` 会识别需要闭包的优化器，并自动为你构造一个。
#
# ## 6. 整数张量 { #6-integer-tensors }
#
# `torch.tensor([[1], [2], [3]])` 存放的是整数（`int64`），因为这些数字写的时候没有小数点。`nn.Linear` 的权重是 `float32`，两者不能混用：

# %% tags=["raises-exception"]
x_int = torch.tensor([[1], [2], [3]])
print(x_int.dtype)
model(x_int)

# %% [markdown]
# **修正**：写成 `1.0, 2.0, 3.0`，或者用 `x_int.float()` 转换。（原课代码用的是大写 T 的 `torch.Tensor([[1], [2], [3]])`。它总是生成默认浮点类型的张量，只要没改过默认设置，就是 `float32`，所以原课没有遇到这个问题。小写 t 的 `torch.tensor` 则根据数据推断类型。）
#
# ## 7. 用 `.data` 代替 `torch.no_grad()` 或 `.item()` { #7-data-instead-of-torchno_grad-or-item }
#
# 原课代码用 `y_test.data` 打印预测值。`.data` 是一种旧写法，用来取得不带计算历史的张量。它有一个陷阱：通过它所做的修改，自动求导（autograd）察觉不到。下面在 `sigmoid` 之后把 `b.data` 清零，而 `sigmoid` 的反向传播恰好要用到它自己的输出，于是梯度悄无声息地算错了：

# %%
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = a.sigmoid()
b.data.zero_()  # 自动求导对此毫不知情
b.sum().backward()
print("改动 .data 之后的梯度:", a.grad)

# %% [markdown]
# 改用 `.detach()`，同样的修改就会被发现，因为自动求导会检查张量的版本计数器：

# %% tags=["raises-exception"]
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = a.sigmoid()
b.detach().zero_()
b.sum().backward()

# %% [markdown]
# **修正**：做预测时，在 `torch.no_grad()` 中运行模型（完全不记录计算历史）；要得到 Python 数值，用 `.item()`；要把张量从计算历史中分离出来，用 `.detach()`：

# %%
with torch.no_grad():
    y_test = model(torch.tensor([[4.0]]))
print(y_test, y_test.requires_grad, y_test.item())

# %% [markdown]
# ## 8. 学习率超过稳定上限 { #8-a-learning-rate-above-the-stable-bound }
#
# 教程 2 已经说明，在这个损失函数上，只有学习率低于 $2/\lambda_{\max}$ 时，全批量梯度下降才会收敛。学习率只要略高于这个上限，损失就会一轮比一轮大：

# %%
bound = linreg.stable_lr(x, "sum")
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=1.2 * bound)
for epoch in range(8):
    loss = criterion(model(x), y)
    print(f"第 {epoch} 轮  损失 {loss.item():12.2f}")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

# %% [markdown]
# 放任不管的话，损失会溢出为 `inf`，接着变成 `nan`，之后的每个数字都毫无意义。`linreg.train` 则不同：损失一旦变成 `inf` 或 `nan`，它就立即停下，并告诉你该改什么：

# %% tags=["raises-exception"]
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=1.2 * bound)
linreg.train(model, x, y, criterion, optimizer, epochs=1000)

# %% [markdown]
# **修正**：把学习率降到上限以下（用 `linreg.stable_lr(x, "sum")` 计算，或在终端中运行 `linreg solve`），或者改用 `reduction="mean"`，它会把梯度除以 $N$。
#
# 原课的内容到这里就全部讲完了。想了解 `linreg` 提供的全部功能，请阅读 [API 参考](../reference/index.md)，或者回到[教程列表](index.md)。
