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
# 下面是初学原课内容时常犯的十一个错误。每个错误都实际运行一遍，附上当前安装的 torch 给出的真实报错或警告信息，以及修正方法。有些错误会立即报错；更危险的那些只发出一条警告，甚至一声不吭，直接算出错误的结果。
#
# 凡是用到模型的陷阱，都用同一个随机种子新建一个模型，所以每个陷阱都不受前面陷阱的影响。数据和损失函数沿用原课：

# %%
import torch

import linreg

x, y = linreg.lesson_data()  # 形状都是 (3, 1)：y = 2x
criterion = torch.nn.MSELoss(reduction="sum")

# %% [markdown]
# ## 1. 名字拼错 { #1-a-typo-in-a-name }
#
# 原笔记（一位学习者为原课整理的笔记）创建的是 `criterion`，调用的却是 `criterion1`。Python 要等运行到这一行才会发现：

# %% tags=["raises-exception"]
torch.manual_seed(0)
model = linreg.LinearModel()
loss = criterion1(model(x), y)

# %% [markdown]
# **修正**：调用你创建的那个对象，即 `criterion(model(x), y)`。重启内核后把 Notebook 从头到尾运行一遍，就能赶在别人之前发现这类遗留问题。
#
# ## 2. 已弃用的 `size_average` { #2-the-deprecated-size_average }
#
# `size_average` 和 `reduce` 是旧版 torch 中损失函数的参数。它们仍然可用，但会发出警告；如果和 `reduction` 同时传入，它们会覆盖 `reduction`：

# %% tags=["warns"]
criterion_old = torch.nn.MSELoss(size_average=False, reduction="mean")

# %%
print("实际使用的 reduction：", criterion_old.reduction)

# %% [markdown]
# **修正**：只写 `reduction`。`size_average=False` 对应 `"sum"`，默认行为对应 `"mean"`，`reduce=False` 对应 `"none"`。
#
# ## 3. 目标值的形状是 `(N,)` 而不是 `(N, 1)` { #3-targets-of-shape-n-instead-of-n-1 }
#
# 模型返回的预测值形状为 `(3, 1)`。如果目标值是形状为 `(3,)` 的一维张量，损失函数内部的减法会把两者**广播**成 `(3, 3)`：每个预测值都要和每个目标值比较。下面的预测完全正确，损失却不为零：

# %% tags=["warns"]
y_pred = torch.tensor([[2.0], [4.0], [6.0]])  # (3, 1)，完全正确
y_flat = torch.tensor([2.0, 4.0, 6.0])  # (3,)
loss_flat = criterion(y_pred, y_flat)

# %%
print("目标值形状为 (3, 1) 时的损失：", criterion(y_pred, y_flat.reshape(-1, 1)).item())
print("目标值形状为 (3,) 时的损失：  ", loss_flat.item())
print("两者之差的形状：              ", (y_pred - y_flat).shape)

# %% [markdown]
# torch 只警告一次；用这样的损失训练，会悄无声息地学出一条错误的直线。是哪一条？每个预测值 $\hat{y}_i$ 同时被**三个**目标值拉扯，而离 2、4、6 三者总体最近的数，就是它们的平均值 $\bar{y} = 4$。一条直线完全可以对所有 $x$ 都预测 4：斜率 $w = 0$，截距 $b = 4$。用一维目标值训练原课的模型，得到的正是这条线：

# %% tags=["warns"]
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(1000):
    loss = criterion(model(x), y_flat)  # (3, 1) 对 (3,)：算的是 (3, 3) 的损失
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

# %%
w, b = model.linear.weight.item(), model.linear.bias.item()
print(f"学到的参数：w = {w:.4f}, b = {b:.4f}")
print(f"目标值的平均值：{y_flat.mean().item():.4f}")
print(f"损失降不下去的下限：{loss.item():.4f}")

# %% [markdown]
# 无论 $x$ 取何值，预测值都是 $\bar{y}$：一条水平线。损失停在 24：目标值围绕平均值的离差平方和是 8，三个预测值各计一次。`linreg` 遇到这样的目标值会直接拒绝，并说明怎么改：

# %% tags=["raises-exception"]
torch.manual_seed(0)
model = linreg.LinearModel()
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
print("一次 backward 后：", w.grad.item())
(3 * w).backward()
print("两次 backward 后：", w.grad.item())
w.grad.zero_()
print("zero_() 之后：    ", w.grad.item())

# %% [markdown]
# 在训练循环中，这会让每一步用的都是之前所有梯度之和；[教程 2](02-pytorch-lesson.md) 展示了损失因此上下摆动的情形。**修正**：每一步调用一次 `optimizer.zero_grad()`，放在 `loss.backward()` 之前。
#
# ## 5. 在自动求导的眼皮底下原地修改参数 { #5-updating-a-parameter-in-place-with-autograd-watching }
#
# [教程 1](01-gradient-descent.md) 手动更新的是普通的 Python 数值：`w -= lr * grad`。换成需要梯度的张量，梯度取自自动求导（autograd）算出的 `w.grad`，同样一行 `w -= lr * w.grad` 看上去也毫无问题。可这样的 `w` 是计算图中的**叶子张量**，自动求导不允许对它做原地修改：

# %% tags=["raises-exception"]
w = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
loss = ((w * x + b - y) ** 2).sum()
loss.backward()
w -= 0.01 * w.grad

# %% [markdown]
# **修正**：参数更新本身不属于模型的计算，应当放进 `torch.no_grad()`，让自动求导不做记录；更新完再亲手把梯度清零：

# %%
w = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
for epoch in range(1000):
    loss = ((w * x + b - y) ** 2).sum()
    loss.backward()
    with torch.no_grad():  # 这是参数更新，不是需要求导的计算
        w -= 0.01 * w.grad
        b -= 0.01 * b.grad
    w.grad.zero_()
    b.grad.zero_()
print(f"w = {w.item():.4f}, b = {b.item():.4f}")

# %% [markdown]
# （改写成 `w = w - 0.01 * w.grad` 也能运行，但这样得到的 `w` 是由旧 `w` 算出来的新张量，已经不是叶子张量，此后 `backward()` 不会再填充它的 `.grad`。）`optimizer.step()` 做的正是上面这种更新，而且替你放在了 `torch.no_grad()` 里。
#
# ## 6. 对同一张计算图调用两次 `backward()` { #6-backward-twice-through-the-same-graph }
#
# 把预测值放到循环外面只算一次，看上去能省点计算。可是每次 `backward()` 都会释放计算图保存的中间结果，而下一轮的损失仍然建立在同一个 `y_pred` 上，也就是建立在那张已经释放过的计算图上：

# %% tags=["raises-exception"]
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
y_pred = model(x)  # 只算一次，放在循环外
for epoch in range(3):
    loss = criterion(y_pred, y)
    print(f"第 {epoch} 轮  损失 {loss.item():.4f}")
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

# %% [markdown]
# 报错信息建议加上 `retain_graph=True`。加上之后确实不报错了，但也正好说明它在这里治标不治本：`y_pred` 是用最初的权重算出来的，之后再没重算过，于是每一轮的损失都一模一样，每一步走的也都是同一个过时的方向。

# %%
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
y_pred = model(x)
for epoch in range(3):
    loss = criterion(y_pred, y)
    optimizer.zero_grad()
    loss.backward(retain_graph=True)
    optimizer.step()
    w = model.linear.weight.item()
    print(f"第 {epoch} 轮  损失 {loss.item():.4f}  这一步之后 w = {w:.4f}")

# %% [markdown]
# **修正**：像原课那样，把前向传播放进循环，每一步都重新算一遍，这样每次 `backward()` 走的都是一张新的计算图。`retain_graph=True` 留给真正需要对同一张图反向传播两次的少数场合（比如两个损失共用一部分计算）。
#
# ## 7. 记录的是 `loss` 而不是 `loss.item()` { #7-logging-loss-instead-of-lossitem }
#
# `losses.append(loss)` 存下的是张量，连带着它的 `grad_fn`，也就连带着算出它的整张计算图。程序不会报错，只是计算图越积越多，每轮一张。我们可以数一数：从每个存下来的损失出发，沿着 `grad_fn` 和 `next_functions` 遍历，统计自动求导节点的个数，以及这些节点的 `_saved_*` 属性里还留着多少个张量。


# %%
def graph_size(logged):
    """统计从记录的值出发能到达的自动求导节点数，以及这些节点保存的张量数。"""
    seen = set()
    stack = [v.grad_fn for v in logged if isinstance(v, torch.Tensor)]
    saved = 0
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(parent for parent, _ in node.next_functions)
        for name in dir(node):
            if name.startswith("_saved_"):
                try:
                    saved += isinstance(getattr(node, name), torch.Tensor)
                except RuntimeError:  # 已被 backward() 释放
                    pass
    return len(seen), saved


def train_and_log(epochs, log, backward=True):
    torch.manual_seed(0)
    model = linreg.LinearModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    logged = []
    for epoch in range(epochs):
        loss = criterion(model(x), y)
        logged.append(log(loss))
        if backward:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return logged


rows = [
    ("loss", 10, train_and_log(10, lambda loss: loss)),
    ("loss", 100, train_and_log(100, lambda loss: loss)),
    ("loss.item()", 100, train_and_log(100, lambda loss: loss.item())),
    ("loss（不做 backward）", 100, train_and_log(100, lambda loss: loss, backward=False)),
]
print(f"{'轮数':>4}{'留存节点':>8}{'保存的张量':>10}  记录的值")
for what, epochs, logged in rows:
    nodes, saved = graph_size(logged)
    print(f"{epochs:>6}{nodes:>12}{saved:>15}  {what}")

# %% [markdown]
# 每轮新增三个节点（损失、矩阵乘法、权重的转置），再加上权重和偏置这两个共用的叶子节点。`backward()` 已经释放了每张图保存的张量，所以在训练循环里越积越多的是节点本身。如果损失从来不做反向传播，比如在 `torch.no_grad()` 之外算一个测试集损失、只为记进日志，那么它保存的张量也会一直留着（表中最后一行）：在真实的网络里，这些就是各层的激活值，内存会一轮接一轮地涨，直到耗尽。
#
# **修正**：像原课那样记录一个数，即 `loss.item()`（想保留张量但不要计算历史，就用 `loss.detach()`）。
#
# ## 8. `LBFGS` 缺少闭包 { #8-lbfgs-without-a-closure }
#
# 大多数优化器根据 `.grad` 中已有的梯度走一步。`LBFGS` 每走一步都要多次计算损失，所以需要一个能完成这项计算的函数，也就是闭包（closure）：

# %% tags=["raises-exception"]
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.LBFGS(model.parameters())
loss = criterion(model(x), y)
loss.backward()
optimizer.step()

# %% [markdown]
# **修正**：传入一个闭包，在其中清零梯度、计算损失、调用 `backward()`，并返回损失。要留意 `step(closure)` 的返回值：它是闭包**第一次**求值的结果，也就是这一步**之前**的损失。想知道这一步走到了哪里，得再算一次损失：


# %%
def closure():
    optimizer.zero_grad()
    loss = criterion(model(x), y)
    loss.backward()
    return loss


torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.LBFGS(model.parameters())
for step in range(3):
    before = optimizer.step(closure).item()
    with torch.no_grad():
        after = criterion(model(x), y).item()
    print(f"第 {step} 步：step() 返回 {before:.6f}，这一步之后的损失 {after:.6f}")

# %% [markdown]
# `LBFGS` 的一步最多迭代 `max_iter=20` 次，对这个二次损失来说足以直接落到最小值上；而 `step()` 返回的仍是出发时的损失。`linreg.train` 会识别需要闭包的优化器，并自动为你构造一个。
#
# ## 9. 整数张量 { #9-integer-tensors }
#
# `torch.tensor([[1], [2], [3]])` 存放的是整数（`int64`），因为这些数字写的时候没有小数点。`nn.Linear` 的权重是 `float32`，两者不能混用：

# %% tags=["raises-exception"]
torch.manual_seed(0)
model = linreg.LinearModel()
x_int = torch.tensor([[1], [2], [3]])
print(x_int.dtype)
model(x_int)

# %% [markdown]
# **修正**：写成 `1.0, 2.0, 3.0`，或者用 `x_int.float()` 转换。（原课代码用的是大写 T 的 `torch.Tensor([[1], [2], [3]])`。它总是生成默认浮点类型的张量，只要没改过默认设置，就是 `float32`，所以原课没有遇到这个问题。小写 t 的 `torch.tensor` 则根据数据推断类型。）
#
# ## 10. 用 `.data` 代替 `torch.no_grad()` 或 `.item()` { #10-data-instead-of-torchno_grad-or-item }
#
# 原课代码用 `y_test.data` 打印预测值。`.data` 是一种旧写法，用来取得不带计算历史的张量。它有一个陷阱：通过它所做的修改，自动求导察觉不到。下面在 `sigmoid` 之后把 `b.data` 清零，而 `sigmoid` 的反向传播恰好要用到它自己的输出，于是梯度悄无声息地算错了：

# %%
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = a.sigmoid()
b.data.zero_()  # 自动求导对此毫不知情
b.sum().backward()
print("改动 .data 之后的梯度：", a.grad)

# %% [markdown]
# 正确的梯度是 $\sigma(a)(1 - \sigma(a))$，处处不为零。改用 `.detach()`，自动求导就能发现同样的修改并报错，因为它会检查张量的版本计数器：

# %% tags=["raises-exception"]
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = a.sigmoid()
b.detach().zero_()
b.sum().backward()

# %% [markdown]
# **修正**：做预测时，在 `torch.no_grad()` 中运行模型（完全不记录计算历史）；要得到 Python 数值，用 `.item()`；要把张量从计算历史中分离出来，用 `.detach()`。下面用一个训练了 1000 轮的模型来预测：

# %%
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
linreg.train(model, x, y, criterion, optimizer, epochs=1000)
with torch.no_grad():
    y_test = model(torch.tensor([[4.0]]))
print(y_test, y_test.requires_grad, f"{y_test.item():.4f}")

# %% [markdown]
# ## 11. 学习率超过稳定上限 { #11-a-learning-rate-above-the-stable-bound }
#
# [教程 2](02-pytorch-lesson.md) 已经说明，在这个损失函数上，只有学习率低于 $2/\lambda_{\mathrm{max}}$ 时，全批量梯度下降才会收敛。学习率只要略高于这个上限，损失就会一轮比一轮大：

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
# **修正**：把学习率降到上限以下（用 `linreg.stable_lr(x, "sum")` 计算，或在终端中运行 `linreg solve`），或者改用 `reduction="mean"`，它会把梯度除以 $N$。这个上限从何而来，[教程 4](04-loss-surface.md#around-the-bound) 在损失曲面上给出了直观的解释。
#
# ## 练习 { #exercises }
#
# 每道题的参考答案都折叠起来了，先自己动手，再展开对照。
#
# **1.** 预测值 `[[1.0], [2.0], [3.0]]`（形状 `(3, 1)`）遇上目标值 `[1.0, 2.0, 3.0]`（形状 `(3,)`），预测本身完全正确。默认的 `MSELoss()`（即 `reduction="mean"`）会返回多少？请先手算。

# %% [markdown] tags=["solution"]
# 广播会让每个预测值和每个目标值两两比较，得到一张 $3 \times 3$ 的差值表 $\hat{y}_i - y_j$。平方之后，第一行是 0、1、4，第二行是 1、0、1，第三行是 4、1、0，合计 12；取平均要除以 9 个元素。用代码把这张表算一遍，`MSELoss` 内部做的正是下面这个显式广播：

# %% tags=["solution"]
predictions = [1.0, 2.0, 3.0]
by_hand = sum((p - t) ** 2 for p in predictions for t in predictions) / 9
y_pred = torch.tensor([[1.0], [2.0], [3.0]])  # (3, 1)
y_flat = torch.tensor([1.0, 2.0, 3.0])  # (3,)
broadcast = ((y_pred - y_flat) ** 2).mean()  # (3, 1) - (3,) -> (3, 3)
print(f"手算：{by_hand:.4f}   torch 广播计算：{broadcast.item():.4f}")
assert abs(broadcast.item() - by_hand) < 1e-6

# %% [markdown]
# **2.** 找出下面这个循环的错误。它运行时既不报错也不警告，那么它会输出什么？为什么？
#
# ```python
# for epoch in range(100):
#     loss = criterion(model(x), y)
#     loss.backward()
#     optimizer.zero_grad()
#     optimizer.step()
# ```

# %% [markdown] tags=["solution"]
# `zero_grad()` 夹在 `backward()` 和 `step()` 之间，刚算出的梯度转手就被清掉了：`step()` 找不到梯度（`zero_grad()` 会把 `.grad` 设为 `None`），参数原封不动，损失也就一直不变。运行一遍看看，再把 `zero_grad()` 挪到 `backward()` 之前：

# %% tags=["solution"]
def run(zero_grad_first):
    torch.manual_seed(0)
    model = linreg.LinearModel()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    start = [p.detach().clone() for p in model.parameters()]
    losses = []
    for epoch in range(100):
        loss = criterion(model(x), y)
        losses.append(loss.item())
        if zero_grad_first:
            optimizer.zero_grad()
        loss.backward()
        if not zero_grad_first:
            optimizer.zero_grad()  # 错误所在：刚算出的梯度被丢掉了
        optimizer.step()
    moved = any(not torch.equal(p, p0) for p, p0 in zip(model.parameters(), start))
    return losses, moved


buggy, moved_buggy = run(zero_grad_first=False)
fixed, moved_fixed = run(zero_grad_first=True)
print(f"有错的循环：损失 {buggy[0]:.4f} -> {buggy[-1]:.4f}，参数变了吗：{moved_buggy}")
print(f"改正之后：  损失 {fixed[0]:.4f} -> {fixed[-1]:.4f}，参数变了吗：{moved_fixed}")
assert buggy[0] == buggy[-1] and not moved_buggy
assert fixed[-1] < fixed[0]

# %% [markdown] tags=["solution"]
# （这里用 `torch.equal` 判断正合适：没有更新过的参数，每一位都和原来一模一样。）

# %% [markdown]
# **3.** 现在数据换成 $x = 1, 2, 3, 4$，$y = 3x + 1$，而目标值以一维形式传入，形状为 `(4,)`。模型会学出哪条直线？先给出答案，再用广播后的损失训练一遍来验证。

# %% [markdown] tags=["solution"]
# 当 $\hat{y}_i = wx_i + b$ 要和每一个 $y_j$ 比较时，围绕平均值 $\bar{y}$ 展开，交叉项正好抵消，平均损失分成两部分：
#
# $$\frac{1}{N^2}\sum_{i,j}(\hat{y}_i - y_j)^2
#   = \frac{1}{N}\sum_i(\hat{y}_i - \bar{y})^2 + \frac{1}{N}\sum_j(y_j - \bar{y})^2 .$$
#
# 只有第一部分与 $w$、$b$ 有关，而水平线 $\hat{y} = \bar{y}$ 恰好让它等于零：$w = 0$，$b = \bar{y} = 8.5$，和真实斜率是多少毫无关系。

# %% tags=["solution"]
x4 = torch.tensor([[1.0], [2.0], [3.0], [4.0]])  # (4, 1)
y4_flat = 3 * x4.flatten() + 1  # (4,)：错误的形状
torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(1000):
    loss = ((model(x4) - y4_flat) ** 2).mean()  # MSELoss() 广播后算的就是它：(4, 4)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
w, b = model.linear.weight.item(), model.linear.bias.item()
print(f"学到的参数：w = {w:.4f}, b = {b:.4f}；y 的平均值：{y4_flat.mean().item():.4f}")
assert abs(w) < 1e-4 and abs(b - y4_flat.mean().item()) < 1e-4

# %% [markdown]
# **4.** 把原课循环里的 `optimizer.step()` 和 `optimizer.zero_grad()` 换成你自己写的参数更新（做法见陷阱 5），并验证训练 100 轮后得到的权重和偏置与 `torch.optim.SGD(lr=0.01)` 的结果相同。

# %% [markdown] tags=["solution"]
# 对每个参数执行 $\theta \leftarrow \theta - 0.01\,\partial L/\partial\theta$，更新放在 `torch.no_grad()` 里，梯度由自己清除：

# %% tags=["solution"]
torch.manual_seed(0)
model = linreg.LinearModel()
for epoch in range(100):
    loss = criterion(model(x), y)
    loss.backward()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter -= 0.01 * parameter.grad
            parameter.grad = None
by_hand = torch.cat([p.detach().flatten() for p in model.parameters()])

torch.manual_seed(0)
model = linreg.LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
linreg.train(model, x, y, criterion, optimizer, epochs=100)
with_sgd = torch.cat([p.detach().flatten() for p in model.parameters()])
print("手写更新 (w, b)：", [round(v, 6) for v in by_hand.tolist()])
print("SGD      (w, b)：", [round(v, 6) for v in with_sgd.tolist()])
print("allclose:", torch.allclose(by_hand, with_sgd))
assert torch.allclose(by_hand, with_sgd)

# %% [markdown]
# 原课的内容到这里就全部讲完了。再往前走一步，[教程 7](07-data-parallel.md) 让同一个训练循环在多个进程上同时运行。自己写训练循环时，不妨把[速查表](summary.md)开在一旁；想了解 `linreg` 提供的全部功能，请阅读 [API 参考](../reference/index.md)，或者回到[教程列表](index.md)。
