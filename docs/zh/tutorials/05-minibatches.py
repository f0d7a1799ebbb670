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
# 到目前为止，每次更新都用上了全部数据，这就是**全批量**梯度下降。只有三个点时，这几乎没有代价；数据有一百万条时就不同了，因为每走一步都要把所有样本过一遍。**小批量**是从数据中随机抽取的一小部分。每次更新只在一个小批量上计算损失及其梯度，因此遍历一遍数据，也就是一轮（epoch），会更新很多次，而不是只更新一次。
#
# ## 含两个特征的数据 { #data-with-two-features }
#
# 我们按 $y = 2x_1 - 3.4x_2 + 4.2$ 生成 500 个样本，并加上少量噪声。现在模型有两个输入特征：$\hat{y} = w_1x_1 + w_2x_2 + b$，但仍然只是一个 `nn.Linear` 层。

# %%
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

import linreg

x, y = linreg.synthetic_data([2.0, -3.4], 4.2, n=500, noise=0.01, seed=0)
print(x.shape, y.shape)
w_star, b_star = linreg.fit_closed_form(x, y)
print(
    "闭式解: w =",
    [round(v, 4) for v in w_star.flatten().tolist()],
    " b =",
    round(b_star.item(), 4),
)

# %% [markdown]
# ## 一轮是什么样的 { #what-one-epoch-looks-like }
#
# `linreg.minibatches` 每轮把数据的各行打乱一次，再切成一个个小批量；最后一个小批量装下剩余的样本，因此不会漏掉任何样本。500 个样本、批量大小为 32 时，共有 15 个完整的小批量，外加一个只有 20 个样本的小批量：

# %%
generator = torch.Generator().manual_seed(0)
sizes = [
    len(x_batch)
    for x_batch, y_batch in linreg.minibatches(x, y, 32, generator=generator)
]
print(len(sizes), "个小批量，大小依次为:", sizes[:3], "...", sizes[-2:])

# %% [markdown]
# 使用 `reduction="mean"` 时，一个小批量的损失是其中各样本损失的平均值。所以无论批量大小是多少，它的梯度都是对全体数据梯度的估计，同一个学习率适用于各种批量大小。（如果用 `reduction="sum"`，梯度会随批量大小增大而变大。）
#
# ## 全批量、小批量与每步单个样本 { #full-batch-minibatch-one-sample-per-step }
#
# 从相同的初始权重出发训练三次，每次 5 轮，都用 `lr=0.03` 的 SGD。三次训练每次更新所用的数据分别是：全部数据、32 个样本的小批量，以及只含一个样本的小批量（也就是最初意义上的“随机”梯度下降）。

# %%
settings = {"全批量": None, "小批量 32": 32, "小批量 1": 1}
runs = {}
for name, batch_size in settings.items():
    torch.manual_seed(0)
    model = linreg.LinearModel(in_features=2)
    optimizer = linreg.make_optimizer("SGD", model.parameters(), lr=0.03)
    criterion = linreg.make_criterion("mean")
    runs[name] = linreg.train(
        model,
        x,
        y,
        criterion,
        optimizer,
        epochs=5,
        batch_size=batch_size,
        seed=0,
    )

header = ["训练方式", "更新次数", "最终损失", "w1", "w2", "b"]
print("{:<8}{:>5}{:>8}{:>9}{:>9}{:>9}".format(*header))
for name, run in runs.items():
    w1, w2 = run.weight.flatten().tolist()
    row = [name, len(run.step_losses), run.final_loss, w1, w2, run.bias.item()]
    print("{:<9}{:>9}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}".format(*row))

# %% [markdown]
# ## 损失随轮数的变化 { #loss-against-epochs }
#
# 按轮数来看，两次小批量训练遥遥领先：同样遍历一遍数据，它们的更新次数分别是全批量的 16 倍和 500 倍。

# %% alt="对数坐标下，全批量、小批量 32 和小批量 1 三次训练的损失随轮数的变化：小批量 1 在第一轮内就降到很低，小批量 32 过几轮也降了下来，全批量只是缓慢下降。"
linreg.plot_comparison(runs, kind="overlay", lang="zh")

# %% [markdown]
# ## 损失随更新次数的变化 { #loss-against-updates }
#
# 按更新次数来看，情况正好反过来。全批量的每一步用的是精确梯度，径直下坡；小批量的每一步用的是带噪声的估计，所以损失上下跳动。批量越小，路径越曲折；到了最小值附近，噪声会让损失始终无法完全稳定下来（在训练后期减小学习率就能解决）。三次训练的更新次数最多相差 500 倍，所以横轴也用对数坐标。

# %% alt="横纵轴均为对数坐标，损失随更新次数的变化：全批量（5 次更新）平稳下降；小批量 32（80 次更新）降得更低，略有抖动；小批量 1（2500 次更新）降得最低，到底部后一直剧烈抖动。"
linreg.plot_comparison(runs, kind="overlay", per="update", xlog=True, lang="zh")

# %% [markdown]
# 所以这是一种取舍：一边是廉价但带噪声的步子，一边是昂贵但精确的步子。在大规模数据上，廉价的步子优势明显，这正是深度学习几乎都用小批量训练的原因。
#
# ## DataLoader，以及适用于内存中张量的更快做法 { #dataloader-and-a-faster-way-for-tensors-in-memory }
#
# PyTorch 处理小批量的标准工具是 `DataLoader(TensorDataset(x, y))`。它很通用：可以从磁盘读取数据、解码图片，还能启动多个工作进程。但对已经在内存中的张量来说，这种通用性是有代价的：组装每个小批量时，它都要一个样本一个样本地取出各行。`linreg.minibatches` 则每轮生成一个随机排列，再按这个排列切片，得到的同样是随机打乱的小批量。在构建本页的机器上，用 10 万行数据、批量大小 1024 跑一轮：

# %% tags=["varies"]
x_big, y_big = linreg.synthetic_data([2.0, -3.4], 4.2, n=100_000, seed=1)

start = time.perf_counter()
for x_batch, y_batch in DataLoader(
    TensorDataset(x_big, y_big), batch_size=1024, shuffle=True
):
    pass
dataloader_seconds = time.perf_counter() - start

start = time.perf_counter()
for x_batch, y_batch in linreg.minibatches(x_big, y_big, 1024):
    pass
minibatches_seconds = time.perf_counter() - start

print(f"DataLoader:         {dataloader_seconds:.3f} 秒")
print(f"linreg.minibatches: {minibatches_seconds:.4f} 秒")
print(f"加速比:             {dataloader_seconds / minibatches_seconds:.0f} 倍")

# %% [markdown]
# 数据放不进内存，或者需要逐个样本做处理时，用 `DataLoader`；如果张量已经在内存中，按索引切片就够了。
#
# ## 小结 { #what-to-remember }
#
# - 一轮就是把数据遍历一遍；批量大小为 $B$ 时，一轮进行 $\lceil N/B \rceil$ 次更新。
# - `reduction="mean"` 让梯度的尺度与批量大小无关。
# - 按轮数算，小批量占优；按更新次数算，全批量占优；批量越小，噪声越大。
#
# 下一篇：[常见陷阱](06-pitfalls.md)。
