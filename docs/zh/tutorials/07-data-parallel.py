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
# # 走出单进程：数据并行训练 { #beyond-one-process-data-parallel-training }
#
# 前面几篇教程都只在一个进程里训练。**数据并行**把训练分给 $W$ 个进程（$W$ 称为 world size），各进程按 **rank** 编号为 $0, \dots, W-1$。每个进程都持有一份完整的模型，只在属于自己的那一份数据（分片）上训练。`backward` 之后，各进程对梯度做一次**全归约（all-reduce）**：每个进程都拿到全部 $W$ 份梯度的平均值，于是每份模型走出同样的一步，始终保持一致。这些事 PyTorch 的 `DistributedDataParallel`（DDP）都会替你做好。
#
# 本篇把原课的训练循环改写成 DDP 脚本，在构建本站的机器上（两个 CPU 核，没有 GPU）用两个进程运行它，验证它和单进程走的每一步都相同，再把几个常见陷阱逐一实际跑一遍，最后测一测速度。
#
# ## 为什么平均梯度就行 { #why-averaging-gradients-works }
#
# 用 `reduction="mean"` 时，一个由 $B = Wb$ 个样本组成的批量，损失等于 $W$ 个分片 $S_0, \dots, S_{W-1}$（每片 $b$ 个样本）各自损失的平均值；而平均值的梯度就是梯度的平均值：
#
# $$
# \nabla_\theta \frac{1}{Wb}\sum_{i=1}^{Wb} \ell_i
# = \frac{1}{W}\sum_{r=0}^{W-1} \nabla_\theta \Bigl(\frac{1}{b}\sum_{i \in S_r} \ell_i\Bigr).
# $$
#
# 等号右边正是 DDP 的做法：rank $r$ 求出自己那个批量的梯度，再由全归约取平均。所以，$W$ 个进程各用大小为 $b$ 的批量，和一个进程用大小为 $Wb$ 的批量，走的是同样的步子。前提是各分片一样大，这也正是下面几个陷阱要紧的原因。
#
# ## 脚本 { #the-script }
#
# DDP 为每个 rank 运行一个 Python 进程，所以训练代码要写成脚本，让每个进程各自运行。我们在一个临时文件夹里操作，用单元格魔法命令 `%%writefile` 把脚本写进去：下面这个单元格的内容*就是*这个文件。

# %%
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from torch.utils.data import DistributedSampler

# 临时文件夹，存放脚本及其输出；内核停止时自动删除：
scratch = tempfile.TemporaryDirectory(prefix="ddp-")
os.chdir(scratch.name)

# %%
# %%writefile ddp_train.py
"""原课的线性回归，用数据并行（DDP）训练。

运行方式：torchrun --standalone --nproc-per-node=2 ddp_train.py results.json
torchrun 启动各个进程，并通过环境变量告诉每个进程它的 rank 和 world size，
init_process_group 会读取这些环境变量。
"""

import gc
import json
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.distributed.nn  # 要在 init_process_group 之前导入（见 main 的结尾）
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset


class LinearModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


def make_data(n, seed=0):
    """按 y = 2x + 1 + 噪声生成 n 个样本；种子相同，每个进程得到的数据就相同。"""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, generator=generator)
    y = 2 * x + 1 + 0.1 * torch.randn(n, 1, generator=generator)
    return TensorDataset(x, y)


def train(
    dataset, lr=0.1, batch_size=8, epochs=5, reduction="mean", set_epoch=True,
    drop_last=False, hook=None, group=None, log=False,
):
    """原课的训练循环，由 `group` 中的每个进程运行（默认是全部进程）。

    返回模型和训练记录：每步之后的 (w, b)、本进程每轮用到的样本、每轮用时（秒）。
    """
    torch.manual_seed(0)  # 各进程的初始权重相同（DDP 也会把 rank 0 的权重复制过去）
    model = DistributedDataParallel(LinearModel(), process_group=group)
    if hook is not None:
        model.register_comm_hook(None, hook)
    criterion = torch.nn.MSELoss(reduction=reduction)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    # 本进程的分片：把全部样本打乱后，每隔 W 个取一个
    world_size, rank = dist.get_world_size(group), dist.get_rank(group)
    sampler = DistributedSampler(
        dataset, world_size, rank, seed=0, drop_last=drop_last
    )
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler)
    history = {"steps": [], "orders": [], "seconds": []}
    for epoch in range(epochs):
        if set_epoch:
            sampler.set_epoch(epoch)  # 每轮换一种打乱顺序
        history["orders"].append(list(sampler))
        start = time.perf_counter()
        for x, y in loader:
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()  # DDP 在这里对梯度做全归约：取各 rank 的平均
            optimizer.step()
            linear = model.module.linear  # DDP 包装里面的模型
            history["steps"].append([linear.weight.item(), linear.bias.item()])
        history["seconds"].append(time.perf_counter() - start)
        if log and rank == 0:  # 只由一个进程打印
            w, b = history["steps"][-1]
            print(f"第 {epoch + 1} 轮：w = {w:.4f}，b = {b:.4f}")
    return model, history


def sum_gradients(state, bucket):
    """通信钩子：用普通的求和对梯度做全归约（DDP 默认的钩子会先除以 W）。"""
    work = dist.all_reduce(bucket.buffer(), async_op=True)
    return work.get_future().then(lambda future: future.value()[0])


def gather(value):
    """把每个 rank 的 `value` 收集成一个列表，每个进程都拿到一份。"""
    values = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    return values


def main():
    dist.init_process_group("gloo")  # gloo 用于 CPU
    rank, world_size = dist.get_rank(), dist.get_world_size()
    dataset = make_data(64)  # world size 能整除 64
    model, history = train(dataset, log=True)
    if rank == 0:  # 各份模型的权重相同，由一个进程保存即可
        torch.save(model.module.state_dict(), "model.pt")

    # 本教程的各项实验，放在同一次启动里完成（每启动一次都要花几秒）
    results = {"world_size": world_size, "steps": history["steps"]}
    results["orders"] = gather(history["orders"])
    results["sum"] = train(dataset, lr=0.005, reduction="sum")[1]["steps"]
    lr_times_w = 0.005 * world_size
    results["sum_lr_w"] = train(dataset, lr=lr_times_w, reduction="sum")[1]["steps"]
    hooked = train(dataset, lr=0.005, reduction="sum", hook=sum_gradients)[1]
    results["sum_hook"] = hooked["steps"]
    uneven = make_data(63)  # 2 不能整除 63
    for name, run in [
        ("uneven", train(uneven)[1]),
        ("drop_last", train(uneven, drop_last=True)[1]),
        ("no_set_epoch", train(dataset, set_epoch=False)[1]),
    ]:
        results[name] = {"steps": run["steps"], "orders": gather(run["orders"])}
    threads = [os.environ.get("OMP_NUM_THREADS"), torch.get_num_threads()]
    results["threads"] = gather(threads)

    # 每轮用时（秒）：先让 rank 0 单独训练（自成一个进程组），再让全部进程一起
    big = make_data(2**13, seed=1)
    alone = dist.new_group([0])
    for batch_size in [64, 1024]:
        if rank == 0:
            run = train(big, batch_size=batch_size, epochs=3, group=alone)[1]
            results[f"seconds_{batch_size}_1"] = run["seconds"]
        dist.barrier()
        run = train(big, batch_size=batch_size // world_size, epochs=3)[1]
        results[f"seconds_{batch_size}_{world_size}"] = run["seconds"]

    if rank == 0:
        with open(sys.argv[1], "w") as file:
            json.dump(results, file)
    # 一起退出，并且不留下任何进程组。只有在没有别的对象持有时，destroy_process_group
    # 才能释放一个进程组：每个 DDP 模型都持有一个，`alone` 也是；DDP 会导入
    # torch.distributed.nn，若在 init_process_group 之后才导入，它的默认参数会一直
    # 持有 group.WORLD。进程组若一直活到解释器退出，gloo 的线程还在运行，可能让进程在那时中止。
    del model, alone
    gc.collect()  # 回收只被循环引用持有的 DDP 模型
    dist.barrier()  # 别的进程还在通信时，谁也不先退出
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

# %% [markdown]
# 从 `main` 往下读：
#
# - `init_process_group("gloo")` 让本进程与其他进程会合。torchrun 已经把 rank、world size 和会合地址放进了环境变量（`RANK`、`WORLD_SIZE`、`MASTER_ADDR`、`MASTER_PORT`）；`gloo` 是在 CPU 进程之间传递张量的后端。
# - 每个进程用同一个种子生成同样的 64 个样本。`DistributedSampler` 把属于 rank $r$ 的分片交给它，`DataLoader` 再把分片切成大小为 8 的小批量，所以两个进程每步合起来用到 16 个样本。
# - `DistributedDataParallel(model)` 在创建时把 rank 0 的权重复制给每个进程，并把全归约挂进 `backward`：`loss.backward()` 返回时，`.grad` 里已经是所有 rank 的平均梯度。循环的其余部分和原课一模一样。
# - `sampler.set_epoch(epoch)` 让每一轮的打乱顺序各不相同。
# - 只有 rank 0 打印和保存：各份模型本来就相同，$W$ 个进程同时写一个文件还会互相干扰。权重在 `model.module` 里，也就是 DDP 包装里面的那个模型。
#
# `main` 的后半部分在同一次启动里跑完本页的各项实验（各个陷阱和计时），由 rank 0 把结果写进一个 JSON 文件，供下面的单元格读取。`gather` 用到了另一种集合通信 `all_gather_object`，把每个 rank 看到的东西收集起来。最后几行先丢掉 DDP 模型，再调用 `destroy_process_group()`，这样进程组才真正在那里结束，原因见代码里的注释。
#
# ## 用 torchrun 启动 { #launching-it-with-torchrun }
#
# `torchrun --standalone --nproc-per-node=2 ddp_train.py results.json` 在本机启动两个进程；`--standalone` 让它们在本机的一个空闲端口上会合。在终端里照原样输入这行命令即可。在 Notebook 里，我们以子进程的方式运行它：`torchrun` 就是 `python -m torch.distributed.run`，通过内核自己的 Python 来调用，用的就是同一个环境。（在内核里用 `torch.multiprocessing.spawn` 启动进程，在 Jupyter 中会失败：新进程必须导入它要运行的函数，而在 Notebook 单元格里定义的函数是导入不了的。）所有通信都只走回环接口 `lo`（macOS 上叫 `lo0`）。

# %%
env = dict(os.environ, MASTER_ADDR="127.0.0.1", GLOO_SOCKET_IFNAME="lo")
env.pop("OMP_NUM_THREADS", None)  # 交给 torchrun 决定（见下文的陷阱）
command = [
    sys.executable, "-m", "torch.distributed.run",  # 也就是 torchrun
    "--standalone", "--nproc-per-node=2", "ddp_train.py", "results.json",
]
launch = subprocess.run(
    command, env=env, capture_output=True, text=True, timeout=300
)
print(launch.stdout, end="")
assert launch.returncode == 0, launch.stderr[-2000:]
results = json.loads(Path("results.json").read_text())
world_size = results["world_size"]
saved = sorted(p.name for p in Path().glob("*.pt"))
print("进程总数（world size）：", world_size, "；保存的文件：", saved)

# %% [markdown]
# 这五行是 rank 0 打印的；rank 1 同样在训练，只是不打印。
#
# ## 谁用哪些样本 { #who-trains-on-which-samples }
#
# 要看 `DistributedSampler` 做了什么，并不需要真的启动进程：告诉它 world size 和 rank 就行。第 $e$ 轮（从 0 数起）它用种子为 `seed + e` 的生成器把全部 $N$ 个下标打乱，rank $r$ 从第 $r$ 个开始，每隔 $W$ 个取一个：

# %%
from ddp_train import LinearModel, make_data  # 脚本自己的模型和数据

dataset = make_data(64)
# 第 0 轮的打乱顺序：生成器的种子为 0 + 0
order = torch.randperm(64, generator=torch.Generator().manual_seed(0))
shards = [
    list(DistributedSampler(dataset, world_size, rank, seed=0)) for rank in range(2)
]
print("第 1 轮，64 个样本打乱后：", order[:8].tolist(), "...")
for rank, shard in enumerate(shards):
    print(f"rank {rank}（{len(shard)} 个样本）：", shard[:4], "...")
    assert shard == order[rank::world_size].tolist() == results["orders"][rank][0]
everyone = sorted(shards[0] + shards[1])
print("每个样本恰好用一次：", everyone == list(range(64)))

# %% [markdown]
# 每个 rank 的第一个小批量是它分片里的前 8 个样本，所以第一步用到的正是打乱顺序中的前 16 个样本，两个 rank 各占一半。单个进程用 `batch_size=16` 时，第一步取的也正是这个批量。
#
# ## 与单进程走同样的步子 { #the-same-steps-as-one-process }
#
# 下面在当前进程里运行原课的循环：打乱顺序相同，批量大小为 16，初始权重也相同（和脚本一样，在创建模型之前调用 `torch.manual_seed(0)`）：

# %%
def one_process(
    dataset, lr=0.1, batch_size=16, epochs=5, reduction="mean", orders=None
):
    """不用 DDP 的原课循环；给了 `orders` 就用它代替每轮的打乱顺序。"""
    torch.manual_seed(0)
    model = LinearModel()
    criterion = torch.nn.MSELoss(reduction=reduction)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    x, y = dataset.tensors
    steps = []
    for epoch in range(epochs):
        seeded = torch.Generator().manual_seed(epoch)  # 与 DistributedSampler 相同
        if orders is None:
            order = torch.randperm(len(x), generator=seeded)
        else:
            order = orders[epoch]
        for i in range(0, len(order), batch_size):
            batch = order[i : i + batch_size]
            loss = criterion(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps.append([model.linear.weight.item(), model.linear.bias.item()])
    return steps


def ulps(first, second):
    """逐步、逐个参数地比较两次训练：二者之间隔着多少个 float32 数。"""
    a, b = torch.tensor(first), torch.tensor(second)  # float32，与训练时相同
    assert torch.equal(a.sign(), b.sign())
    # 把 float32 的 32 位当作整数来读，就是在给浮点数编号：相邻的两个数相差 1
    return (a.view(torch.int32).long() - b.view(torch.int32).long()).abs()


single = one_process(dataset)
apart = ulps(results["steps"], single)
print(f"共 {len(single)} 步；逐位相同：{results['steps'] == single}")
print("最大差距（w, b），单位 ulp：", apart.max(dim=0).values.tolist())
print("有差别的步数：", int((apart.sum(dim=1) > 0).sum()))
final = [("2 个进程", results["steps"][-1]), ("1 个进程", single[-1])]
for name, (w, b) in final:
    print(f"{name}：w = {w:.6f}，b = {b:.6f}")
assert apart.max() <= 4  # 容差：4 ulp，相对误差不超过 5e-7

# %% [markdown]
# 两次训练走的是同样的 20 步：每一步的 $w$ 和 $b$ 相差都不超过 1 ulp（unit in the last place，即一个 float32 与下一个 float32 之间的间隔，相对大小约为 $1.2 \times 10^{-7}$）。我们把容差定为 4 ulp。之所以做不到逐位相同，是因为浮点加法不满足结合律：单进程把 16 个样本的梯度一次加起来；DDP 则在每个 rank 上各加 8 个，把两个和分别除以 2，再把两半相加。相加的顺序不同，最后一位的舍入就可能不同。
#
# 要确认差别完全来自相加的顺序，可以在一个进程里照搬 DDP 的算法：每一步依次拿每个 rank 的那 8 个样本算出损失，除以 $W$ 后反向传播（梯度会在 `.grad` 里累加），然后更新一步。这相当于手工做全归约，结果与两个进程逐位相同：

# %%
torch.manual_seed(0)
model = LinearModel()
criterion = torch.nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = dataset.tensors
by_hand = []
for epoch in range(5):
    shards = results["orders"]  # shards[rank][epoch]：该 rank 在该轮用的样本
    for i in range(0, 32, 8):
        optimizer.zero_grad()
        for rank in range(world_size):
            batch = shards[rank][epoch][i : i + 8]
            # 每个 rank 的损失除以 W；backward 把它的梯度累加到 .grad
            (criterion(model(x[batch]), y[batch]) / world_size).backward()
        optimizer.step()
        by_hand.append([model.linear.weight.item(), model.linear.bias.item()])
print("手工全归约，与 DDP 逐位相同：", by_hand == results["steps"])
assert by_hand == results["steps"]

# %% [markdown]
# ## 四个陷阱 { #four-traps }
#
# ### `reduction="sum"` 让步长变小 { #reduction-sum }
#
# 原课用的是 `MSELoss(reduction="sum")`。用求和时，16 个样本的梯度是两个 rank 梯度之*和*，可 DDP 照样取平均：`lr` 相同时，每一步的步长只有单进程的 $1/W$，在这里就是一半。下面两次训练都用 `lr=0.005`：

# %%
torch.manual_seed(0)
initial = LinearModel().linear  # 每次训练的起点
w0, b0 = initial.weight.item(), initial.bias.item()
single_sum = one_process(dataset, lr=0.005, reduction="sum")
(w1, b1), (w2, b2) = single_sum[0], results["sum"][0]
ratios = ((w2 - w0) / (w1 - w0), (b2 - b0) / (b1 - b0))
print(f"第一步，1 个进程：dw = {w1 - w0:.4f}，db = {b1 - b0:.4f}")
print(f"第一步，2 个进程：dw = {w2 - w0:.4f}，db = {b2 - b0:.4f}")
print(f"2 个进程 / 1 个进程：{ratios[0]:.3f}，{ratios[1]:.3f}")

# %% [markdown]
# 有两种修正办法，脚本里都跑过了：把学习率乘以 $W$；或者注册一个通信钩子，用普通的求和做全归约（即脚本里的 `sum_gradients`；DDP 默认的钩子会先除以 $W$）。两种办法都能和单进程走同样的步子：

# %%
fixes = {"sum_lr_w": "lr × W = 0.01", "sum_hook": "lr = 0.005，求和钩子"}
for name, label in fixes.items():
    apart = ulps(results[name], single_sum).max(dim=0).values
    print(f"{label}：(w, b) 相差不超过", apart.tolist(), "ulp（与 1 个进程相比）")
    assert apart.max() <= 4

# %% [markdown]
# 用 `reduction="mean"` 就什么都不用改：均值除以批量大小，DDP 的平均再除以 $W$，合起来正好除以 $Wb$，也就是单进程的批量大小。这就是脚本用它的原因。
#
# ### world size 不能整除样本数 { #a-world-size-that-does-not-divide-n }
#
# 有 63 个样本、$W = 2$ 时，两个分片不可能一样大。`DistributedSampler` 的办法是*重复*样本：把打乱顺序开头的几个样本补到末尾，直到 $W$ 能整除总数。于是每个 rank 分到 32 个样本，每轮有一个样本要用两次：

# %%
uneven = make_data(63)
twice = []
for epoch in range(5):
    orders = results["uneven"]["orders"]  # orders[rank][epoch]
    used = orders[0][epoch] + orders[1][epoch]
    repeated = sorted(i for i in set(used) if used.count(i) > 1)
    twice.append(repeated)
    shuffle = torch.randperm(63, generator=torch.Generator().manual_seed(epoch))
    first = shuffle[0].item()
    print(
        f"第 {epoch + 1} 轮：{len(used)} 个样本，{repeated} 用了两次；",
        f"打乱后的第一个：{first}",
    )
    assert repeated == [first]

# %% [markdown]
# 所以两个进程训练的其实是一个略有不同的问题：有一个样本算了两遍。单进程把 63 个样本各用一次，结果就不一样；而把补齐后的顺序（打乱的顺序再加上它的第一个样本）交给单进程，它走的就是两个进程的步子：

# %%
shuffles = [
    torch.randperm(63, generator=torch.Generator().manual_seed(e)) for e in range(5)
]
padded = [torch.cat([order, order[:1]]) for order in shuffles]
dropped = [order[:62] for order in shuffles]
ddp_padded, ddp_dropped = results["uneven"]["steps"], results["drop_last"]["steps"]
once = one_process(uneven)
with_padding = one_process(uneven, orders=padded)
with_drop = one_process(uneven, orders=dropped)
for label, steps in [
    ("2 个进程，63 个样本：      ", ddp_padded),
    ("1 个进程，63 个样本：      ", once),
    ("1 个进程，补齐到 64 个：   ", with_padding),
    ("2 个进程，drop_last：      ", ddp_dropped),
    ("1 个进程，丢掉最后一个：   ", with_drop),
]:
    print(label, f"w = {steps[-1][0]:.4f}，b = {steps[-1][1]:.4f}")
for label, apart in [
    ("2 个进程与补齐后的单进程", ulps(ddp_padded, with_padding)),
    ("drop_last 与丢掉最后一个的单进程", ulps(ddp_dropped, with_drop)),
]:
    print(f"{label}：(w, b) 相差不超过", apart.max(dim=0).values.tolist(), "ulp")
    assert apart.max() <= 4
assert abs(ddp_padded[-1][0] - once[-1][0]) > 1e-3

# %% [markdown]
# 补齐后学到的 $w$，与每个样本只用一次时相差约 0.001。这里的差别不大；但样本很少时，或者重复的恰好是几个离群点时，差别就不小了。`DistributedSampler(..., drop_last=True)` 不重复任何样本：它丢掉每轮打乱顺序末尾的 $N \,\mathrm{mod}\, W$ 个样本（丢哪一个，看这一轮打乱后谁排在最后），每个 rank 分到 31 个。这同样不是用全部 63 个样本的单进程训练。彻底的办法是选好 $N$（或 $W$），让 $W$ 整除 $N$，就像脚本里用 64 个样本那样。
#
# ### 忘了调用 `set_epoch` { #forgetting-set-epoch }
#
# 采样器打乱顺序时用的种子是 `seed + epoch`，而采样器只能从 `set_epoch` 得知当前是第几轮。不调用它，每一轮用的都是第 0 轮的顺序。下面对比调用和不调用 `set_epoch` 时，rank 0 在前三轮里的前几个样本：

# %%
for label, orders in [
    ("调用 set_epoch：  ", results["orders"][0]),
    ("不调用 set_epoch：", results["no_set_epoch"]["orders"][0]),
]:
    distinct = len({tuple(order) for order in orders})
    firsts = [order[:4] for order in orders[:3]]
    print(label, firsts, f"；5 轮中不同的顺序：{distinct} 种")
epoch_1 = torch.randperm(64, generator=torch.Generator().manual_seed(0))
# 每一轮都用第 1 轮的顺序：
same_order = one_process(dataset, orders=[epoch_1] * 5)
apart = ulps(results["no_set_epoch"]["steps"], same_order).max(dim=0).values
print(
    "不调用 set_epoch 与每轮重复第 1 轮顺序的单进程：(w, b) 相差不超过",
    apart.tolist(),
    "ulp",
)
assert apart.max() <= 4

# %% [markdown]
# 既不报错也不警告：模型每一轮都按同样的小批量顺序训练，打乱顺序的好处就丢了一大半。记得在每一轮开始时调用 `sampler.set_epoch(epoch)`。
#
# ### torchrun 把 `OMP_NUM_THREADS` 设为 1 { #torchrun-sets-omp-num-threads }
#
# 张量足够大时，PyTorch 会用多个线程执行一个运算，默认每个核一个线程。$W$ 个进程如果各自按核数开线程，线程总数就是核数的 $W$ 倍。所以除非你自己设置，torchrun 会给每个进程设 `OMP_NUM_THREADS=1`，并在 stderr 里提示一句：

# %%
lines = launch.stderr.splitlines()
notice = [line.split("] ", 1)[-1] for line in lines if "OMP_NUM" in line]
print("torchrun：", *notice)
print(
    "脚本中各 rank 的（OMP_NUM_THREADS，torch 线程数）：",
    results["threads"],
)
print("本内核的 torch 线程数：", torch.get_num_threads())

# %% [markdown]
# 每个核一个进程时，这正合适。进程比核少时（比如 16 个核上跑 2 个进程），每个进程只用一个核，其余的核都闲着：这时要在 `torchrun` 的环境里自己把 `OMP_NUM_THREADS` 设为“核数 ÷ 进程数”。至于我们这么小的模型，线程多少都一样。
#
# ## 有多快？ { #how-fast }
#
# 脚本还用 $2^{13} = 8192$ 个样本给同样的训练计了时：先让 rank 0 单独训练（它自成一个进程组 `dist.new_group([0])`，这样同一个 `train` 不用改就能运行），再让两个进程各用一半的批量一起训练，这样两次训练走的步子相同。每次训练 3 轮，取其中最快的一轮。时间是在构建本页的机器上测的，测量时这两个核上还在运行其他页面的 Notebook，所以每次运行的结果都会变：

# %% tags=["varies"] alt="每轮用时随进程数（1 个和 2 个）的变化，同一份数据、批量大小分别为 64 和 1024；每条线都配一条点线，从单进程的用时画到它的一半，那是两个核最多能带来的加速。数值在构建本页时测得，每次构建都不同。"
fig, ax = plt.subplots(figsize=(6, 4))
for batch_size in [64, 1024]:
    ms = [1000 * min(results[f"seconds_{batch_size}_{p}"]) for p in (1, world_size)]
    steps = 2**13 // batch_size
    label = f"批量 {batch_size}（每轮 {steps} 步）"
    (line,) = ax.plot([1, world_size], ms, marker="o", label=label)
    half = [ms[0], ms[0] / world_size]
    ax.plot([1, world_size], half, ":", color=line.get_color())
    print(
        f"批量 {batch_size:>4}：1 个进程每轮 {ms[0]:.0f} 毫秒，",
        f"2 个进程每轮 {ms[1]:.0f} 毫秒",
    )
ax.set_xticks([1, world_size])
ax.set_xlabel("进程数")
ax.set_ylabel("每轮用时（毫秒）")
ax.set_ylim(bottom=0)
ax.set_title("每轮用时（点线：快一倍）")
ax.legend()
plt.show()

# %% [markdown]
# 两个核上的两个进程，最多只能把时间减半（点线），而且前提是两个核都空闲：构建本页时，这两个核上还跑着别的 Notebook，所以加速会更少，甚至反而更慢。这里每一步的工作大多花在 `DataLoader` 逐个取样本上，这部分由两个进程分担。两种批量大小每轮的工作量相同，但批量为 64 时每轮要做 128 次全归约，批量为 1024 时只有 8 次，而每次全归约都要等两个进程都走到这里。所以批量为 64 时，第二个进程带来的好处更少，或者亏得更多。核更多时也是这笔账，跨机器时更是如此，它决定了 DDP 能扩展到什么程度：每一步的工作要多，全归约要少。
#
# ## 多台机器：纸上谈兵 { #several-machines-on-paper }
#
# 这一节的内容**没有实际运行**：本站在一台机器上构建，这里的所有通信都没有离开本机的回环接口。换成多台机器（*节点*）时，脚本一行都不用改；只需在每个节点上各启动一次 torchrun，并告诉它怎样找到其他节点。以 2 个节点、每个节点 4 个进程（$W = 8$）为例，设 `$HEAD` 为第一个节点的地址，在每个节点上运行：
#
# ```bash
# torchrun --nnodes=2 --nproc-per-node=4 --rdzv-backend=c10d \
#     --rdzv-endpoint=$HEAD:29400 --rdzv-id=linreg ddp_train.py results.json
# ```
#
# 或者用固定的会合点：第一个节点加 `--node-rank=0`，第二个节点加 `--node-rank=1`，两个节点都加上 `--master-addr=$HEAD --master-port=29500`。
#
# 需要调整的：
#
# - 启动方式：`--nnodes`，以及每个节点都能通过网络（和防火墙）访问到的会合端点（或者 master 地址加节点编号）；
# - $W$ 是所有节点上进程的总数，`RANK` 跨节点统一编号；`LOCAL_RANK` 是节点内部的编号；
# - 用 GPU 时后端换成 `nccl`，每个进程使用与自己 local rank 对应的那块 GPU：调用 `torch.cuda.set_device(local_rank)`，把模型移过去并包装成 `DistributedDataParallel(model, device_ids=[local_rank])`，每个小批量也移过去；
# - gloo 和 NCCL 会自行选择网卡；机器上有多块网卡时，要指明用哪一块（`GLOO_SOCKET_IFNAME`、`NCCL_SOCKET_IFNAME`）；
# - 整个任务只有一个 rank 0 进程：它把模型保存到自己机器的磁盘上，或者所有节点共享的文件系统上。
#
# 保持不变的：训练循环、采样器和 `set_epoch`、梯度取平均，以及这几个陷阱（求和要把 `lr` 乘以 $W$；$W$ 要整除 $N$，只是 $W$ 变大了）。
#
# 官方文档：[torchrun](https://docs.pytorch.org/docs/stable/elastic/run.html)、[DDP 设计说明](https://docs.pytorch.org/docs/stable/notes/ddp.html)和 [DDP 教程](https://docs.pytorch.org/tutorials/intermediate/ddp_tutorial.html)。
#
# ## 要点回顾 { #what-to-remember }
#
# - 数据并行：$W$ 个进程，每个进程持有一份完整的模型和一个数据分片；`backward` 之后对梯度做全归约（取平均），各份模型走同样的一步。
# - 用 `reduction="mean"` 且分片一样大时，$W$ 个进程各用大小为 $b$ 的批量，与一个进程用大小为 $Wb$ 的批量走同样的步子：区别只在浮点加法的顺序，相差不过几个 ulp。
# - 脚本的写法：`init_process_group`、`DistributedDataParallel(model)`、`DistributedSampler` 并在每轮调用 `set_epoch(epoch)`，由 rank 0 打印和保存；用 `torchrun` 启动，而不是在 Notebook 的内核里启动。
# - 几个陷阱：求和的损失要把 `lr` 乘以 $W$（或者用求和钩子）；选好 $N$，让 $W$ 能整除它；记得调用 `set_epoch`；torchrun 只给每个进程一个线程。
#
# ## 练习 { #exercises }
#
# **1. 手工分片。** 有 10 个样本、$W = 4$ 时，`DistributedSampler(..., shuffle=False)` 给每个 rank 分配哪些样本？哪些样本用了两次？用 `drop_last=True` 时，又有哪些样本没用上？

# %% [markdown] tags=["solution"]
# 不打乱时，顺序就是 0 到 9。采样器用开头的样本把它补齐到 4 的倍数 12，rank $r$ 从第 $r$ 个开始每隔 4 个取一个；用 `drop_last` 时，则把顺序截短到 8 个：

# %% tags=["solution"]
for drop_last in [False, True]:
    options = {"shuffle": False, "drop_last": drop_last}
    shards = [
        list(DistributedSampler(range(10), 4, rank, **options)) for rank in range(4)
    ]
    used = sum(shards, [])
    twice = sorted(i for i in set(used) if used.count(i) > 1)
    left_out = sorted(set(range(10)) - set(used))
    print(
        f"drop_last={drop_last}：各 rank 的样本 {shards}；",
        f"用了两次 {twice}；没用上 {left_out}",
    )
    assert (twice, left_out) == (([], [8, 9]) if drop_last else ([0, 1], []))

# %% [markdown]
# **2. 手工模拟四个进程。** 在当前进程里照搬 $W = 4$ 时 DDP 的算法：分片取自 `DistributedSampler(dataset, 4, rank, seed=0)`，每个 rank 的批量大小为 4，每个 rank 的损失先除以 4 再 `backward`。它应该与哪一次单进程训练一致？实际上一致吗？

# %% [markdown] tags=["solution"]
# 四个 rank 各用大小为 4 的批量，与单进程用大小为 16 的批量走同样的步子，也就是上文的 `single`：

# %% tags=["solution"]
def all_reduce_by_hand(world_size, lr=0.1, batch_size=4, reduction="mean"):
    """在当前进程里算出 DDP 在 `world_size` 个 rank 下的每一步。"""
    torch.manual_seed(0)
    model = LinearModel()
    criterion = torch.nn.MSELoss(reduction=reduction)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    ranks = range(world_size)
    samplers = [DistributedSampler(dataset, world_size, r, seed=0) for r in ranks]
    steps = []
    for epoch in range(5):
        for sampler in samplers:
            sampler.set_epoch(epoch)
        shards = [list(sampler) for sampler in samplers]
        for i in range(0, len(shards[0]), batch_size):
            optimizer.zero_grad()
            for shard in shards:
                batch = shard[i : i + batch_size]
                (criterion(model(x[batch]), y[batch]) / world_size).backward()
            optimizer.step()
            steps.append([model.linear.weight.item(), model.linear.bias.item()])
    return steps


four = all_reduce_by_hand(4)
w, b = four[-1]
print(f"手工模拟 4 个 rank：共 {len(four)} 步，w = {w:.6f}，b = {b:.6f}")
apart = ulps(four, single).max(dim=0).values
print("与批量 16 的单进程相比：(w, b) 相差不超过", apart.tolist(), "ulp")
assert apart.max() <= 4

# %% [markdown]
# **3. 四个进程时的求和陷阱。** 用 `reduction="sum"`、$W = 4$ 时，学习率取多少，才能与用 `reduction="sum"`、`lr=0.005` 的单进程走同样的步子？用 `all_reduce_by_hand` 验证。

# %% [markdown] tags=["solution"]
# DDP 会把求和得到的梯度除以 4，所以学习率要乘以 4：

# %% tags=["solution"]
lr = 0.005 * 4
four_sum = all_reduce_by_hand(4, lr=lr, reduction="sum")
apart = ulps(four_sum, single_sum).max(dim=0).values
print(f"lr = {lr}：与单进程相比，(w, b) 相差不超过", apart.tolist(), "ulp")
assert apart.max() <= 4

# %% [markdown]
# **4. 数一数全归约。** 在计时的那几次训练里（$2^{13}$ 个样本，两个进程），批量大小为 64 和 1024 时，每轮各做多少次全归约？每个进程每轮要取多少个样本？

# %% [markdown] tags=["solution"]
# 每一步做一次全归约；而不管批量多大，每个进程每轮都要取一半的数据：

# %% tags=["solution"]
n = 2**13
for batch_size in [64, 1024]:
    print(
        f"批量 {batch_size}：每轮 {n // batch_size} 次全归约，",
        f"每个进程取 {n // 2} 个样本",
    )
assert [n // 64, n // 1024, n // 2] == [128, 8, 4096]

# %% [markdown]
# 教程到此结束。自己写训练循环时，可以把[速查表](summary.md)放在手边；也可以回到[教程目录](index.md)。
