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
# # 小批量 { #minibatches }
#
# 前面几篇里，每次更新都要用上全部数据，这叫**全批量**梯度下降。三个点的时候这不算什么；可要是有一百万个样本，每走一步都得把一百万个样本读一遍。**小批量**是从数据里随机抽出的一小部分样本。每次更新只在一个小批量上计算损失和梯度，这样遍历一遍数据，也就是一轮（epoch），就能做很多次便宜的更新，而不是一次昂贵的更新。
#
# ## 含两个特征的数据 { #data-with-two-features }
#
# 按 $y = 2x_1 - 3.4x_2 + 4.2$ 生成 500 个样本，并加上少量噪声。模型现在有两个输入特征，$\hat{y} = w_1x_1 + w_2x_2 + b$，但仍然只是一个 `nn.Linear` 层。用[教程 1](01-gradient-descent.md)的闭式解可以求出最优权重，以及任何一次训练所能达到的最小损失。

# %%
import math
import time

import torch
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    TensorDataset,
)

import linreg

x, y = linreg.synthetic_data([2.0, -3.4], 4.2, n=500, noise=0.01, seed=0)
print(x.shape, y.shape)
criterion = torch.nn.MSELoss()  # reduction="mean"
w_star, b_star = linreg.fit_closed_form(x, y)
best_loss = criterion(x @ w_star.T + b_star, y).item()
print(
    "闭式解：w =",
    [round(v, 4) for v in w_star.flatten().tolist()],
    " b =",
    round(b_star.item(), 4),
    f" 损失 = {best_loss:.3g}",
)

# %% [markdown]
# ## 一轮是什么样的 { #what-one-epoch-looks-like }
#
# `linreg.minibatches` 每轮把各行重新打乱一次，再切成一个个小批量；最后一个小批量装下剩下的样本，所以不会漏掉任何样本。500 个样本、批量大小 32，就是 15 个满的小批量加一个 20 个样本的小批量，一轮共更新 $\lceil 500/32 \rceil = 16$ 次：

# %%
generator = torch.Generator().manual_seed(0)
sizes = [
    len(x_batch)
    for x_batch, y_batch in linreg.minibatches(x, y, 32, generator=generator)
]
print(len(sizes), "个小批量，大小：", sizes[:3], "...", sizes[-2:])

# %% [markdown]
# ## 用纯 PyTorch 写出小批量循环 { #the-minibatch-loop-in-plain-pytorch }
#
# 小批量的训练循环，就是在原课的循环（[教程 2](02-pytorch-lesson.md)）外面再套一层：每一轮里，对每个小批量执行同样的五行代码。下面每次训练都从相同的初始权重出发，配一个新建的 SGD 优化器（`lr=0.03`）；函数 `one_epoch` 就是那五行代码，依次作用于每个小批量。

# %%
epochs, batch_size = 5, 32


def start(lr=0.03):
    """相同的初始权重，新建的 SGD 优化器。"""
    torch.manual_seed(0)
    model = linreg.LinearModel(in_features=2)
    return model, torch.optim.SGD(model.parameters(), lr=lr)


def one_epoch(model, optimizer, batches):
    """对每个小批量做一次教程 2 那样的更新，返回各小批量的损失。"""
    batch_losses = []
    for x_batch, y_batch in batches:
        loss = criterion(model(x_batch), y_batch)
        batch_losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return batch_losses


def full_loss(model):
    """全部 500 个样本上的损失，衡量模型到底好不好。"""
    with torch.no_grad():
        return criterion(model(x), y).item()


# %% [markdown]
# **(a) `DataLoader`**：PyTorch 的通用工具。`shuffle=True` 让它每轮换一种新的顺序；每个小批量都是从数据集中逐个取出样本，再拼接而成：

# %%
model, optimizer = start()
loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
for epoch in range(epochs):
    one_epoch(model, optimizer, loader)
    print(f"第 {epoch + 1} 轮：全体数据损失 {full_loss(model):.4g}")

# %% [markdown]
# **(b) 随机排列加切片**：数据已经是内存里的张量时，这是最快的写法。每轮调用一次 `torch.randperm`，之后每个小批量只需一次索引。给随机数生成器固定一个种子，顺序就可以复现。

# %%
model, optimizer = start()
generator = torch.Generator().manual_seed(0)
step_losses = []
for epoch in range(epochs):
    perm = torch.randperm(len(x), generator=generator)
    batches = [
        (x[perm[i : i + batch_size]], y[perm[i : i + batch_size]])
        for i in range(0, len(x), batch_size)
    ]
    step_losses += one_epoch(model, optimizer, batches)
print(f"{len(step_losses)} 次更新，全体数据损失 {full_loss(model):.4g}")

# %% [markdown]
# `linreg.train(..., batch_size=32, seed=0)` 一次调用完成的正是这个循环：它用以 `seed` 为种子的生成器每轮调用一次 `torch.randperm`，再按排列切片。因此它和 (b) 逐位一致，每个小批量的损失和最终的权重都分毫不差：

# %%
new_model, new_optimizer = start()
history = linreg.train(
    new_model, x, y, criterion, new_optimizer, epochs, batch_size, seed=0
)
print("各小批量的损失相同：", history.step_losses == step_losses)
print(
    "w 和 b 相同：",
    torch.equal(history.weight, model.linear.weight),
    torch.equal(history.bias, model.linear.bias),
)

# %% [markdown]
# **(c) `DataLoader` 加 `BatchSampler`**：torch 自带的快速路径。设 `batch_size=None` 后，`DataLoader` 每次向数据集要一整个小批量，而 `TensorDataset` 收到一个索引列表时，对每个张量只做一次索引。`RandomSampler` 用我们交给它的生成器调用 `torch.randperm` 来决定顺序，所以它的第一轮和 (b) 完全一样。后面几轮就不一样了：

# %%
dataset = TensorDataset(x, y)
sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(0))
loader = DataLoader(
    dataset,
    sampler=BatchSampler(sampler, batch_size, drop_last=False),
    batch_size=None,
)
model, optimizer = start()
sampler_losses = []
for epoch in range(epochs):
    sampler_losses += one_epoch(model, optimizer, loader)
print("第一轮相同：", sampler_losses[:16] == step_losses[:16])
print("五轮全都相同：", sampler_losses == step_losses)

generator = torch.Generator().manual_seed(0)
perms = [torch.randperm(len(x), generator=generator).tolist() for _ in range(3)]
sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(0))
first, second = list(sampler), list(sampler)
print("采样器的第 1 轮是第 1 个排列：", first == perms[0])
print(
    "它的第 2 轮是第 2 个排列：",
    second == perms[1],
    "；是第 3 个排列：",
    second == perms[2],
)

# %% [markdown]
# 原来 `RandomSampler` 每轮结束时都会多生成一个排列，却一个元素也不用：它源码的最后一行负责处理 `num_samples`（要求抽取的样本数）中不足数据量整数倍的零头，即便零头为零，也照样生成一个排列。于是它的第 2 轮用的是生成器的第 3 个排列，而不是第 2 个。这样得到的小批量同样是随机的，只是和 (b) 的不一样了：`linreg.train` 与 (c) 只有第一轮一致，与 (b) 则无论训练多少轮都一致。
#
# ## 全批量、小批量与每步单个样本 { #full-batch-minibatch-one-sample-per-step }
#
# 从相同的初始权重出发训练三次，每次 5 轮，都用 `lr=0.03` 的 SGD。三次训练每次更新所用的数据分别是：全部数据、32 个样本的小批量，以及只有一个样本的小批量（也就是最初意义上的“随机”梯度下降）。小批量上的损失只说明模型在这一个小批量上表现如何，所以 `linreg.train` 还会在 `torch.no_grad()` 下计算全体数据上的损失，记在 `history.full_losses` 里：默认每轮结束时算一次，传入 `full_loss_every="update"` 则每次更新后都算一次。`history.final_loss` 就是其中最后一个值，即训练好的模型的损失。

# %%
settings = {"全批量": None, "小批量 32": 32, "小批量 1": 1}
runs = {}
for name, size in settings.items():
    model, optimizer = start()
    runs[name] = linreg.train(
        model, x, y, criterion, optimizer, epochs, size,
        seed=0, full_loss_every="update",
    )

header = ["训练方式", "更新次数", "最终损失", "w1", "w2", "b"]
print("{:<8}{:>5}{:>8}{:>9}{:>9}{:>9}".format(*header))
for name, run in runs.items():
    w1, w2 = run.weight.flatten().tolist()
    row = [name, len(run.step_losses), run.final_loss, w1, w2, run.bias.item()]
    print("{:<9}{:>9}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}".format(*row))
print(f"初始损失（三次相同）：{runs['小批量 1'].full_losses[0]:.3g}")
print(f"可能达到的最小损失（闭式解）：{best_loss:.3g}")

# %% [markdown]
# 全批量只更新了 5 次，损失只降到初始值的一半左右。同样 5 轮，小批量 32 更新了 80 次，已经离答案很近；小批量 1 更新了 2500 次，已经接近可能达到的最小损失。
#
# ## 损失随轮数的变化 { #loss-against-epochs }
#
# 按轮数来看，两次小批量训练遥遥领先：同样遍历一遍数据，它们的更新次数分别是全批量的 16 倍和 500 倍。`full_losses` 的第一个值是初始损失，之后每次更新记一个值，所以每隔 16 个（或 500 个）取一个，就是每轮结束时的损失。

# %% alt="对数坐标下，三次训练在全体数据上的损失随轮数的变化，起点相同：小批量 1 在第一轮内就降到谷底，接近可能达到的最小损失；小批量 32 稳步下降，远低于全批量；全批量几乎没怎么动。"
per_epoch = {}
for name, run in runs.items():
    updates_per_epoch = len(run.step_losses) // epochs
    per_epoch[name] = run.full_losses[::updates_per_epoch]
linreg.plot_comparison(
    per_epoch, kind="overlay", ylabel="全体数据上的损失", lang="zh"
)

# %% [markdown]
# ## 损失随更新次数的变化 { #loss-against-updates }
#
# 按更新次数来看，情况就不同了。全批量的每一步沿着精确的梯度走；小批量的每一步沿着梯度的带噪估计走，不过平均而言方向是对的。下图画的是每次更新后全体数据上的损失（`full_losses[1:]`，去掉了初始损失）。三次训练的长度最多相差 500 倍，所以两条坐标轴都用对数刻度。梯度远大于其噪声时，三次训练每更新一次，损失下降的幅度差不多；可是全批量的一次更新要读 500 个样本，小批量 32 读 32 个，小批量 1 只读一个。到了谷底附近，噪声就占了上风：

# %% alt="横纵轴均为对数坐标，全体数据上的损失随更新次数的变化：全批量（5 次更新）、小批量 32（80 次更新）和小批量 1（2500 次更新）起初每次更新下降得差不多；随后小批量 1 在可能达到的最小损失附近停住并来回抖动，小批量 32 到最后一次更新时仍在下降。"
per_update = {name: run.full_losses[1:] for name, run in runs.items()}
linreg.plot_comparison(
    per_update,
    kind="overlay",
    per="update",
    xlog=True,
    ylabel="全体数据上的损失",
    lang="zh",
)

# %%
for name in ["小批量 32", "小批量 1"]:
    run = runs[name]
    last_epoch = run.full_losses[-len(run.step_losses) // epochs :]
    low, high = min(last_epoch), max(last_epoch)
    print(f"{name}，最后一轮：全体数据损失 {low:.3g} 到 {high:.3g}")

# %% [markdown]
# 最后一轮里，小批量 32 仍在下降，损失从这个范围的上端一路降到下端。小批量 1 在第一轮就到了谷底，此后一直在附近徘徊，最多比可能达到的最小损失高出 40%：每一步只看一个样本，都会把它往旁边推一点。训练后期调小学习率，它就能稳定下来。
#
# 所以这是一种取舍：一边是便宜但带噪声的步子，一边是昂贵但精确的步子。数据量大的时候，便宜的步子优势明显，这正是深度学习几乎都用小批量训练的原因。
#
# ## 一个学习率适用于所有批量大小吗？ { #one-learning-rate-for-every-batch-size }
#
# 用 `reduction="mean"` 时，一个小批量的损失是其中各样本损失的平均值，它的梯度也就是各样本梯度的平均值。不管批量多大，这个梯度的**期望**都等于全体数据上的梯度，这正是 `"mean"` 带来的好处（换成 `"sum"`，梯度会随批量增大而变大）。它的**方差**却是另一回事：$B$ 个随机样本的平均值，方差只有单个样本的 $1/B$，所以它围绕全梯度的离散程度按 $1/\sqrt{B}$ 缩小。下面在初始权重处，对每种批量大小各随机抽 200 个小批量来测一测：

# %%
model, optimizer = start()


def gradient(index):
    """由 `index` 所指各行组成的小批量，其损失对 (w1, w2, b) 的梯度。"""
    model.zero_grad()
    criterion(model(x[index]), y[index]).backward()
    weight, bias = model.linear.weight.grad, model.linear.bias.grad
    return torch.cat([weight.flatten(), bias])


full = gradient(torch.arange(len(x)))
generator = torch.Generator().manual_seed(0)
print(f"{'批量大小':>6}{'平均值偏差':>8}{'离散度':>6}{'离散度·√B':>8}")
for size in [1, 32, 500]:
    draws = torch.stack(
        [
            gradient(torch.randperm(len(x), generator=generator)[:size])
            for _ in range(200)
        ]
    )
    mean_off = (draws.mean(dim=0) - full).norm() / full.norm()
    spread = (draws - full).norm(dim=1).pow(2).mean().sqrt() / full.norm()
    scaled = spread * size**0.5
    print(f"{size:>10}{mean_off:>13.3f}{spread:>9.3f}{scaled:>11.2f}")

# %% [markdown]
# 表中三列都以全梯度的长度为单位。无论批量多大，200 个小批量梯度的平均值都落在全梯度附近（200 个带噪声的样本取平均，本身也还带一点噪声）。离散度则不同：单个样本时，它几乎是梯度本身长度的两倍；批量为 32 时，只有三分之一左右；两者的离散度·√B 都在 1.8 上下。（准确地说，不放回地抽取小批量时，方差是 $\sigma^2/B$ 再乘以 $(N-B)/(N-1)$，所以 $B = N = 500$ 时方差为零，剩下的只是舍入误差。）
#
# 所以，`"mean"` 让你不必随批量大小去缩放学习率，但批量大小并不因此就无关紧要了：对精确梯度合适的学习率，换成单个样本可能噪声太大；适合单个样本的学习率，放到大批量上又可能太慢。练习 4 会实际测一测。
#
# ## DataLoader，以及内存中张量的更快做法 { #dataloader-and-faster-ways-for-tensors-in-memory }
#
# `DataLoader` 很通用：能从磁盘读数据、解码图片、启动多个工作进程。可对已经在内存中的张量来说，这种通用性是有代价的：默认情况下，它逐个取出样本，再堆叠成小批量。下面用 10 万行数据、批量大小 1024，分别按 (a)、(c)、(b) 三种方式把数据分批遍历一轮，只分批，不训练。时间是在构建本页的机器上测得的，每次运行都会有出入：

# %% tags=["varies"]
x_big, y_big = linreg.synthetic_data([2.0, -3.4], 4.2, n=100_000, seed=1)
big = TensorDataset(x_big, y_big)
seconds = {}

start_time = time.perf_counter()
for x_batch, y_batch in DataLoader(big, batch_size=1024, shuffle=True):
    pass
seconds["DataLoader，默认"] = time.perf_counter() - start_time

start_time = time.perf_counter()
batch_sampler = BatchSampler(RandomSampler(big), 1024, drop_last=False)
for x_batch, y_batch in DataLoader(big, sampler=batch_sampler, batch_size=None):
    pass
seconds["DataLoader，BatchSampler"] = time.perf_counter() - start_time

start_time = time.perf_counter()
perm = torch.randperm(len(x_big))
for i in range(0, len(x_big), 1024):
    x_batch, y_batch = x_big[perm[i : i + 1024]], y_big[perm[i : i + 1024]]
seconds["randperm 加切片"] = time.perf_counter() - start_time

for name, value in seconds.items():
    print(f"{value * 1000:7.1f} 毫秒  {name}")

# %% [markdown]
# `BatchSampler` 这条路省掉了逐个样本的调用，但它给出的每个小批量仍是一个含 1024 个整数的 Python 列表，还得再转换回索引张量；随机排列及其切片则始终留在 torch 内部。数据放不进内存，或者需要逐个样本做处理时，用 `DataLoader`；张量已在内存中时，对随机排列切片就够了，`linreg.train` 用的正是这种做法。
#
# ## 小结 { #what-to-remember }
#
# - 一轮就是把数据遍历一遍；批量大小为 $B$ 时，一轮更新 $\lceil N/B \rceil$ 次。
# - 小批量循环就是在原课的循环外面套一层对小批量的循环；数据是内存里的张量时，每轮调用一次 `torch.randperm` 再切片即可。
# - 小批量上的损失只反映这一个小批量；要知道模型到底好不好，就在 `torch.no_grad()` 下计算全体数据上的损失。
# - `reduction="mean"` 让梯度的期望与批量大小无关，但噪声不是：离散程度按 $1/\sqrt{B}$ 缩小。
# - 按轮数算，小批量遥遥领先；按更新次数算，梯度还大的时候全批量至多略占上风，而批量越小，到了谷底附近抖得越厉害。
#
# ## 练习 { #exercises }
#
# **1. 数一数更新次数。** $N = 500$、$B = 32$ 时，一轮更新多少次？设 `drop_last=True`（丢掉最后那个不满的小批量）时又是多少次？用 `DataLoader` 的 `len()` 验证这两个答案。

# %% [markdown] tags=["solution"]
# 不设 `drop_last` 时，最后一个小批量装下余下的样本，所以次数向上取整；设了它，就向下取整。`DataLoader` 知道自己有多少个小批量：

# %% tags=["solution"]
n = len(x)
updates = math.ceil(n / 32)
updates_drop_last = n // 32
lengths = [
    len(DataLoader(dataset, batch_size=32, drop_last=drop_last))
    for drop_last in [False, True]
]
print("每轮更新次数：", updates, "；drop_last=True：", updates_drop_last)
assert lengths == [updates, updates_drop_last] == [16, 15]

# %% [markdown]
# **2. 写一个 `drop_last=True` 的循环。** 改写循环 (b)，让每轮都跳过最后那个不满的小批量。从 `start()` 出发训练 5 轮，数一数一共更新了多少次，每轮又漏掉了多少个样本。

# %% [markdown] tags=["solution"]
# 切片只切到批量大小的最大整数倍为止。具体漏掉哪 20 个样本，取决于这一轮的排列：

# %% tags=["solution"]
model, optimizer = start()
generator = torch.Generator().manual_seed(0)
updates, left_out = 0, []
for epoch in range(epochs):
    perm = torch.randperm(len(x), generator=generator)
    end = len(x) - len(x) % batch_size
    batches = [
        (x[perm[i : i + batch_size]], y[perm[i : i + batch_size]])
        for i in range(0, end, batch_size)
    ]
    updates += len(one_epoch(model, optimizer, batches))
    left_out.append(len(x) - end)
print("更新次数：", updates, "；每轮漏掉的样本数：", left_out)
print(f"全体数据损失：{full_loss(model):.4g}")
assert updates == epochs * (len(x) // batch_size) == 75

# %% [markdown]
# **3. `reduction="sum"` 会放大梯度。** 取一个 32 个样本的小批量，分别用 `reduction="sum"` 和 `reduction="mean"` 计算其损失的梯度，验证前者是后者的 32 倍。这对学习率意味着什么？

# %% [markdown] tags=["solution"]
# 32 个损失的和是它们平均值的 32 倍，梯度也是如此：

# %% tags=["solution"]
model, optimizer = start()
x_batch, y_batch = x[:32], y[:32]
grads = {}
for reduction in ["sum", "mean"]:
    model.zero_grad()
    loss = linreg.make_criterion(reduction)(model(x_batch), y_batch)
    loss.backward()
    grads[reduction] = torch.cat(
        [model.linear.weight.grad.flatten(), model.linear.bias.grad]
    )
ratio = grads["sum"] / grads["mean"]
print("sum / mean，逐个参数：", [f"{r:.4f}" for r in ratio.tolist()])
assert torch.allclose(grads["sum"], 32 * grads["mean"])

# %% [markdown] tags=["solution"]
# 用 `"sum"` 时，步长 `lr * 梯度` 随批量一起变大，所以改了批量大小，学习率就得按同样的倍数缩小；`"mean"` 已经替你做了这个除法。

# %% [markdown]
# **4. 一个学习率适用于所有批量大小吗？** 从 `start()` 出发，分别以批量大小 1 和 32 训练一轮，`lr` 依次取 0.3、0.03 和 0.003。哪些学习率能在这一轮内让全体数据上的损失降到 0.001 以下？

# %% [markdown] tags=["solution"]
# `history.final_loss` 就是最后一次更新之后全体数据上的损失：

# %% tags=["solution"]
learning_rates = [0.3, 0.03, 0.003]
below = {}
for size in [1, 32]:
    below[size] = []
    for lr in learning_rates:
        model, optimizer = start(lr)
        run = linreg.train(model, x, y, criterion, optimizer, 1, size, seed=0)
        print(f"批量 {size:>2}，lr={lr:<6} 最终损失 {run.final_loss:.3g}")
        if run.final_loss < 0.001:
            below[size].append(lr)
print("损失低于 0.001 的学习率，批量 1：", below[1], "；批量 32：", below[32])
assert below == {1: [0.03], 32: [0.3]}

# %% [markdown] tags=["solution"]
# 没有哪个学习率对两种批量大小都合适。批量大小为 1 时，`lr=0.3` 噪声太大：每一步都是单个样本梯度的 0.3 倍，而单个样本的梯度围绕全梯度的离散程度约为全梯度长度的两倍（见上面的表）；`lr=0.003` 又太慢。批量大小为 32 时，一轮只有 16 次更新，只有最大的学习率能在这么少的步数内把损失降到 0.001 以下，而它仍远低于全批量的稳定上限。

# %% [markdown]
# 下一篇：[常见陷阱](06-pitfalls.md)。
