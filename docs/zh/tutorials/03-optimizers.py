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
# # 课后作业：比较优化器 { #homework-comparing-optimizers }
#
# 原课最后留了一道作业：把 `SGD` 换成 `torch.optim` 中的其他优化器，比较它们的损失曲线。本篇把这道作业做两遍：
#
# 1. **设置相同**：照作业的字面意思，只换优化器。每个优化器都从同一组权重出发，都用原课的求和损失和 `lr=0.01`，训练 100 轮（epoch）。
# 2. **设置合理**：给每个优化器配一个适合它的学习率。
#
# 除了轮数，还要统计每个优化器计算了多少次损失：同样是一轮，各个优化器的开销并不相同。
#
# ## 用纯 PyTorch 完成作业 { #the-homework-in-plain-pytorch }
#
# 要让比较公平，并让同一个循环适用于全部十二个优化器，需要做到两点。
#
# - **起点相同。** 用随机种子只建一次模型，把它的权重复制一份留着；每个优化器都训练一个新模型，训练前先载入这份副本。否则第二个优化器就会从第一个优化器停下的地方接着训练。这份副本必须是深拷贝：`state_dict()` 返回的就是模型自身的张量，训练会原地修改它们。
# - **闭包。** SGD 的 `step()` 直接使用 `.grad` 里已经算好的梯度，`LBFGS` 却不行：它的一步最多包含 `max_iter=20` 次内部迭代；如果启用线搜索，还要沿每个方向试好几个步长。每试一次，都要在一个新的点上计算损失和梯度，所以 `step()` 需要一个随时可以调用、算出这两者的函数，这就是**闭包**：它把梯度清零，计算损失，调用 `backward()`，最后返回损失。`torch.optim` 中的每个优化器都接受闭包（其他优化器每步只调用一次），所以一个循环就能跑遍全部十二个优化器；数一数闭包被调用了几次，也就知道损失计算了几次。

# %%
import copy

import torch

import linreg

x, y = linreg.lesson_data()
criterion = torch.nn.MSELoss(reduction="sum")

torch.manual_seed(0)
model = linreg.LinearModel()
initial = copy.deepcopy(model.state_dict())


def homework(name, epochs=100, **settings):
    """以 `initial` 为起点，用 torch.optim.<name>(**settings) 训练新模型。"""
    model = linreg.LinearModel()
    model.load_state_dict(initial)
    optimizer = getattr(torch.optim, name)(model.parameters(), **settings)
    count = 0

    def closure():
        nonlocal count
        count += 1
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        return loss

    losses, evaluations = [], []
    for epoch in range(epochs):
        # 每步第一次算出的损失，记作这一轮的损失
        evaluations.append(count + 1)
        losses.append(optimizer.step(closure).item())
    # 最终参数处的损失：训练本身用不到它，所以不计入次数
    with torch.no_grad():
        final = criterion(model(x), y).item()
    return {
        "losses": losses,
        "final": final,
        "evaluations": evaluations,
        "total": count,
        "model": model,
        "optimizer": optimizer,
    }


# %% [markdown]
# 先按作业的要求，所有优化器都用 `lr=0.01`。下表列出最终损失（即学到的参数处的损失）、学到的 $w$ 和 $b$（正确答案是 $w = 2$、$b = 0$）、在 $x = 4$ 处的预测值（正确答案是 8），以及 100 轮中计算损失的次数：


# %%
def show(runs):
    print(
        "{:<7}{:>8}{:>9}{:>9}{:>9}{:>7}".format(
            "优化器", "最终损失", "w", "b", "ŷ(4)", "损失计算次数"
        )
    )
    for name, run in runs.items():
        w = run["model"].linear.weight.item()
        b = run["model"].linear.bias.item()
        print(
            "{:<10}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}{:>13}".format(
                name, run["final"], w, b, 4 * w + b, run["total"]
            )
        )


same = {name: homework(name, lr=0.01) for name in linreg.OPTIMIZERS}
show(same)

# %% [markdown]
# 以轮数为横轴、损失取对数刻度，画出各优化器的损失曲线：

# %% alt="学习率 0.01 下训练 100 轮的十二条损失曲线，损失轴为对数刻度：Rprop 和 LBFGS 降到 1e-7 以下，SGD 和 ASGD 最终停在 0.15 附近，RMSprop 和 RAdam 在 1 附近，Adam 一族在 6 到 8 之间，Adagrad 和 Adadelta 始终高于 30。"
losses = {name: run["losses"] for name, run in same.items()}
linreg.plot_comparison(losses, kind="overlay", lang="zh")

# %% [markdown]
# 按轮数看，`LBFGS` 和 `Rprop` 一样好。但其余十一个优化器每轮只计算一次损失，LBFGS 每轮却要计算很多次：在 `lr=0.01`、不用线搜索时，它根据曲率估计算出一个步长，每次内部迭代却只走其中的 1%，所以每一步都要一直迭代到 `max_iter` 才停。表中 LBFGS 那一行的计算次数是其他优化器的十一倍多：

# %%
lbfgs = same["LBFGS"]["evaluations"] + [same["LBFGS"]["total"] + 1]
per_step = [after - before for before, after in zip(lbfgs, lbfgs[1:])]
print("LBFGS 前几步各自的损失计算次数：", per_step[:5])
print("合计：", sum(per_step))

# %% [markdown]
# 所以按轮数画图对 LBFGS 有利；下文“合理的设置”一节改按损失计算次数画图。这么大的开销是 `lr=0.01` 造成的，不能怪 LBFGS 本身。
#
# ## 为什么在 `lr=0.01` 下各不相同 { #why-they-differ-at-lr001 }
#
# 相同的设置只在狭义上公平：每次只改变一个因素。对优化器本身却不公平，因为它们各自是按不同的默认值设计的。构建本页所用的 torch 中，这些默认值如下：

# %%
import inspect

for name, optimizer_class in linreg.OPTIMIZERS.items():
    default = inspect.signature(optimizer_class).parameters["lr"].default
    print(f"{name:<9} lr={default}")
decay = inspect.signature(torch.optim.AdamW).parameters["weight_decay"].default
print("AdamW 默认的 weight_decay：", decay)

# %% [markdown]
# 可见 `AdamW` 用的也不是 Adam 的设置：它默认每一步都先把权重乘以 `1 - lr * weight_decay`，即权重衰减；Adam 则没有这一步（练习 4 让两者完全一致）。
#
# 看各优化器从同一起点迈出的第一步，就知道它们处理同一个梯度的方式有多么不同。这里 $\partial L/\partial w$ 在起点处约为 $-50$：

# %%
model = linreg.LinearModel()
model.load_state_dict(initial)
criterion(model(x), y).backward()
g = model.linear.weight.grad
print(f"起点处 w 的梯度：{g.item():+.4f}")
w0 = initial["linear.weight"]
first_step = {}
for name in ["SGD", "RAdam", "Adam", "Adagrad", "RMSprop", "Adadelta"]:
    w1 = homework(name, epochs=1, lr=0.01)["model"].linear.weight.detach()
    first_step[name] = w1 - w0
    print(
        f"{name:<9} w 的第一步：{first_step[name].item():+.6f}"
        f" = {(first_step[name] / 0.01).item():7.3f} * lr"
    )

# %% [markdown]
# - **SGD** 每步移动 `lr` 乘以梯度：$0.01 \times 49.77 \approx 0.50$。
# - **Adam** 用梯度的滑动平均除以梯度平方的滑动平均的平方根；两个平均都从 0 开始，所以都要做偏差修正（bias correction）。于是不论梯度多大，第一步都恰好是 $\pm$`lr`，之后每步也大致不超过 `lr`。$w$ 要走约 2 的距离，100 步、每步 0.01 是走不到的。**AdamW**、**Adamax** 和 **NAdam** 也是如此。
# - **RAdam** 在梯度平方的平均只积累了寥寥几步、还不可靠时不用它，而是走动量步，即 `lr` 乘以梯度的平均，所以第一步与 SGD 相同。它最终远远领先 Adam，靠的正是开头这几步的先发优势。
# - **Adagrad** 除以的是以往所有梯度平方**之和**的平方根：第一步是 `lr`，之后越走越小。
# - **RMSprop** 的第一步是 `lr` 的 10 倍。原因不是它的滑动平均“遗忘得快”，而是它没有偏差修正：梯度平方的平均从 0 开始，第一步时只有 $v_1 = (1 - \alpha) g^2 = 0.01\,g^2$（$\alpha = 0.99$），于是这一步是 $\mathrm{lr} \cdot g / \sqrt{0.01\,g^2} = 10 \cdot \mathrm{lr}$。
# - **Adadelta** 几乎纹丝不动，把 `lr` 提高到它的默认值 1 也无济于事（见下文比较学习率的表）。它的一步是 $\mathrm{lr} \cdot g \cdot \sqrt{u + \varepsilon} / \sqrt{v + \varepsilon}$，其中 $u$ 是它自己历次更新量平方的平均，从 0 开始。所以第一步约为 $\mathrm{lr} \cdot \sqrt{\varepsilon} / \sqrt{0.1}$（$\varepsilon = 10^{-6}$），非常小；而 $u$ 只能随着这些小步慢慢变大。
#
# 把这两条规则手算一遍，再与 torch 核对：

# %%
lr, alpha = 0.01, 0.99
v1 = (1 - alpha) * g**2
rmsprop = -lr * g / (v1.sqrt() + 1e-8)
print(
    f"RMSprop：v1 = {v1.item():.2f}，手算的一步 {rmsprop.item():+.6f}",
    torch.allclose(rmsprop, first_step["RMSprop"]),
)

rho, eps = 0.9, 1e-6
v1 = (1 - rho) * g**2
adadelta = -1.0 * g * (0 + eps) ** 0.5 / (v1 + eps).sqrt()
w1 = homework("Adadelta", epochs=1, lr=1.0)["model"].linear.weight.detach()
print(
    f"Adadelta 在 lr=1 时：手算的一步 {adadelta.item():+.6f}",
    torch.allclose(adadelta, w1 - w0),
)

beta2 = 0.999
rho_inf = 2 / (1 - beta2) - 1
rho_t = [rho_inf - 2 * t * beta2**t / (1 - beta2**t) for t in range(1, 11)]
momentum_steps = sum(r <= 5 for r in rho_t)
print(f"rho_t <= 5 时 RAdam 走动量步：从第 1 步到第 {momentum_steps} 步")

# %% [markdown]
# - **Rprop** 只看梯度的**符号**。每个参数的步长从 `lr` 开始，只要符号不变就乘以 1.2，所以在这个光滑的问题上加速很快。
# - **SGD** 的表现符合教程 2 的分析：沿陡峭方向快，沿平坦方向慢（[教程 4](04-loss-surface.md) 画出了损失曲面）。
# - **ASGD**（平均 SGD）的结果和 SGD 几乎一样，原因有三。它要到 `t0` 步之后才开始求平均，默认是一百万步。它保存的平均值 `ax` 在优化器的状态里，不在模型里：第 `t0` 步之前，它只是权重的副本；在那之后要用它，也得自己把它复制到模型里。剩下的区别只有一个很小的权重衰减 `lambd=1e-4`（每步把权重乘以约 $1 - \mathrm{lr} \cdot 10^{-4}$），以及一个同样只是略微衰减的学习率：

# %%
asgd = same["ASGD"]
weight = asgd["model"].linear.weight.detach()
state = asgd["optimizer"].state[asgd["model"].linear.weight]
defaults = asgd["optimizer"].defaults
print(f"t0: {defaults['t0']:g}, lambd: {defaults['lambd']:g}")
print("ax 与模型的 w 相等：", torch.equal(state["ax"], weight))
sgd_weight = same["SGD"]["model"].linear.weight.detach()
print(f"ASGD 的 w 减去 SGD 的 w：{(weight - sgd_weight).item():+.2e}")

# %% [markdown]
# ## 合理的设置 { #sensible-settings }
#
# 每个优化器适合什么样的学习率？每隔一个数量级取一个，共试四个，各训练 100 轮，留下最终损失最低的那个：

# %%
import math

learning_rates = [0.001, 0.01, 0.1, 1.0]
print(
    f"{'优化器':<7}"
    + "".join(f"{'lr=' + str(lr):>11}" for lr in learning_rates)
    + f"{'最佳 lr':>7}"
)
settings, sensible = {}, {}
for name in linreg.OPTIMIZERS:
    if name == "LBFGS":
        continue
    runs = {lr: homework(name, lr=lr) for lr in learning_rates}
    finite = {
        lr: run for lr, run in runs.items() if math.isfinite(run["final"])
    }
    best = min(finite, key=lambda lr: finite[lr]["final"])
    settings[name], sensible[name] = {"lr": best}, finite[best]
    cells = [
        f"{run['final']:>11.2g}" if lr in finite else f"{'发散':>9}"
        for lr, run in runs.items()
    ]
    print(f"{name:<10}" + "".join(cells) + f"{best:>9}")

# %% [markdown]
# 在这组学习率中，SGD 最好的仍是原课的 0.01，取 0.1 就发散了。Adam、AdamW、Adamax 和 NAdam 在 1 时最好，是 torch 默认值的 500 到 1000 倍（RAdam 则在 0.1 时最好）。这些默认值适合要训练成千上万步的神经网络；这里 $w$ 却要在 100 步之内走完约 2 的距离，而每步只走 `lr` 左右。Adadelta 最好的就是它的默认值 1，但仍然爬得很慢；Rprop 最好的也是它的默认值 0.01。
#
# `LBFGS` 不需要这样搜索：保留默认的 `lr=1`，再加上线搜索 `line_search_fn="strong_wolfe"`。线搜索为每一步挑选步长，使损失下降得足够多、坡度也变得足够平缓（即强 Wolfe 条件）。损失是二次函数时，LBFGS 对曲率的估计很快就变得精确：

# %%
settings["LBFGS"] = {"lr": 1, "line_search_fn": "strong_wolfe"}
sensible["LBFGS"] = homework("LBFGS", **settings["LBFGS"])
show(sensible)

# %% [markdown]
# 下面以损失计算次数为横轴画出损失：第 $n$ 次计算对应的，就是闭包第 $n$ 次被调用时算出的损失。作业中 `lr=0.01` 的那次 `LBFGS` 训练也画在图上作对比（两个轴都取对数刻度）：

# %% alt="以损失计算次数为横轴的损失曲线，两个轴都是对数刻度：各优化器取最佳设置，另加 lr=0.01 时的 LBFGS。带线搜索的 LBFGS 在第 8 次计算时降到 1e-9 以下；lr=0.01 时它算了约 1100 次，停在 1e-8 附近。NAdam 和 Rprop 在第 100 次时低于 1e-7；Adam 一族来回振荡；Adadelta 始终高于 10。"
runs = {**sensible, "LBFGS，lr=0.01": same["LBFGS"]}
losses = {name: run["losses"] for name, run in runs.items()}
evaluations = {name: run["evaluations"] for name, run in runs.items()}
linreg.plot_comparison(
    losses,
    kind="overlay",
    x_values=evaluations,
    xlog=True,
    xlabel="损失计算次数",
    lang="zh",
)

# %% [markdown]
# 有了线搜索，LBFGS 的第一步计算 7 次损失，就直接落到了最优解上；之后每轮只算一次，发现梯度已经极小，便立即停下。按损失计算次数算，它是这里最省的优化器，而且遥遥领先。Adam 一族在 `lr=1` 时来回振荡：从四个粗略的学习率中挑出的最好者只是能用，算不上调好了。
#
# ## 捷径：`linreg.compare` { #the-shortcut-linregcompare }
#
# `linreg.compare` 一次调用就能完成同样的实验：它用随机种子只建一次模型，给每个优化器一份这组权重的副本，每个优化器用各自的设置（即上面找到的 `settings`）。两边做的是同一个计算，所以数字不只是接近，而是完全相同：

# %%
runs = linreg.compare(settings, x, y, epochs=100, reduction="sum", seed=0)
identical = all(
    runs[name].losses == run["losses"]
    and runs[name].final_loss == run["final"]
    and torch.equal(runs[name].weight, run["model"].linear.weight.detach())
    and torch.equal(runs[name].bias, run["model"].linear.bias.detach())
    and runs[name].loss_evaluations == run["total"]
    for name, run in sensible.items()
)
print("linreg.compare 给出的损失、w、b 和损失计算次数完全相同：", identical)
assert identical

# %% [markdown]
# 在终端中运行 `linreg compare --lr 0.01 --epochs 100 --plot compare.png`，可以完成“设置相同”的那组实验并保存图片。
#
# ## 这个比较说明不了什么 { #what-this-does-not-tell-you }
#
# 这个问题只有两个参数，损失恰好是二次函数，每一步都用上全部数据，正是 LBFGS 和 Rprop 擅长的情形。自适应方法（Adam 及其变体）是为相反的情形设计的：参数数以百万计，各参数梯度的量级相差悬殊，而且小批量让梯度带有噪声。这里的结果说明不了它们在那种情形下孰优孰劣。至于 LBFGS，它的线搜索要比较几个点上的损失，只有每次计算都用同一批数据才有意义。[教程 5](05-minibatches.md) 用 SGD 介绍小批量。
#
# ## 练习 { #exercises }
#
# **1.** 各优化器取各自的合理设置，哪一个用最少的损失计算次数就算出了低于 $10^{-6}$ 的损失？用了多少次？

# %% [markdown] tags=["solution"]
# 第 `evaluations[i]` 次计算得到的损失是 `losses[i]`：对每次训练找出第一个低于 $10^{-6}$ 的损失即可。

# %% tags=["solution"]
reached = {}
for name, run in sensible.items():
    for loss, evaluation in zip(run["losses"], run["evaluations"]):
        if loss < 1e-6:
            reached[name] = evaluation
            break
for name, evaluation in sorted(reached.items(), key=lambda item: item[1]):
    print(f"{name:<8} 损失 < 1e-6：第 {evaluation} 次计算")
winner = min(reached, key=reached.get)
print("次数最少：", winner)
assert winner == "LBFGS" and reached["LBFGS"] == 8

# %% [markdown]
# **2.** 因为 $\alpha = 0.99$，RMSprop 的第一步是 `lr` 的 10 倍。在 `lr=0.01` 下，先预测 $\alpha = 0.9$ 和 $\alpha = 0.999$ 时的第一步，再用 torch 验证。

# %% [markdown] tags=["solution"]
# 由 $v_1 = (1 - \alpha) g^2$，这一步是 $\mathrm{lr} \cdot g / \sqrt{(1-\alpha) g^2}$，大小为 $\mathrm{lr} / \sqrt{1 - \alpha}$，分别约为 `lr` 的 3.16 倍和 31.6 倍。方向与梯度相反；这里梯度为负，所以 $w$ 变大。

# %% tags=["solution"]
for alpha in [0.9, 0.999]:
    predicted = 0.01 / (1 - alpha) ** 0.5
    run = homework("RMSprop", epochs=1, lr=0.01, alpha=alpha)
    step = (run["model"].linear.weight.detach() - w0).item()
    print(f"alpha={alpha}：预测 {predicted:+.5f}，torch 实测 {step:+.5f}")
    assert math.isclose(step, predicted, rel_tol=1e-5)

# %% [markdown]
# **3.** 用 `lr=0.1` 运行 Adam。要训练多少轮（更新多少次），损失才低于 $10^{-3}$？

# %% [markdown] tags=["solution"]
# 100 轮不够（上面比较学习率的表中，`lr=0.1` 时最终损失约为 0.24），所以多训练一些轮，找出第一个低于 $10^{-3}$ 的损失：`losses[i]` 是更新 `i` 次之后的损失。

# %% tags=["solution"]
adam = homework("Adam", epochs=500, lr=0.1)
epochs_needed = next(i for i, loss in enumerate(adam["losses"]) if loss < 1e-3)
print("Adam，lr=0.1：损失 < 1e-3 需要", epochs_needed, "轮")
assert adam["losses"][epochs_needed - 1] >= 1e-3 > adam["losses"][epochs_needed]

# %% [markdown]
# **4.** 让 `AdamW` 在 `lr=0.01` 下给出与 Adam 完全相同的结果。

# %% [markdown] tags=["solution"]
# 两者的默认值只有 `weight_decay=0.01` 这一处不同。把它设为 0，AdamW 的更新就与 Adam 逐位相同，所以这里用 `==` 比较才是对的：

# %% tags=["solution"]
adam = homework("Adam", lr=0.01)
adamw = homework("AdamW", lr=0.01, weight_decay=0)
print(
    "AdamW（默认设置）与 Adam 相同：", same["AdamW"]["losses"] == adam["losses"]
)
print(
    "AdamW（weight_decay=0）与 Adam 相同：", adamw["losses"] == adam["losses"]
)
assert adamw["losses"] == adam["losses"]
assert torch.equal(
    adamw["model"].linear.weight.detach(), adam["model"].linear.weight.detach()
)

# %% [markdown]
# **5.** SGD 沿平坦方向走得很慢。保持 `lr=0.01`，加上动量，比如 `momentum=0.9`：训练 100 轮后，损失能低多少？动量是不是越大越好？

# %% [markdown] tags=["solution"]
# 动量会把一直指向同一方向的各步累加起来，而沿平坦方向的各步正是如此，所以 SGD 在这个方向上快了起来。但动量太大就会冲过头，来回摆动：0.9 的最终损失比不加动量时低一百多倍，0.8 还要更低，0.95 却比不加动量时还高。

# %% tags=["solution"]
plain = same["SGD"]["final"]
finals = {}
for momentum in [0.5, 0.8, 0.9, 0.95]:
    finals[momentum] = homework("SGD", lr=0.01, momentum=momentum)["final"]
    print(f"momentum={momentum}：最终损失 {finals[momentum]:.3g}")
print(f"不加动量：{plain:.3g}")
assert plain / finals[0.9] > 100 and finals[0.8] < finals[0.9]
assert finals[0.95] > plain

# %% [markdown]
# 下一篇：[损失曲面](04-loss-surface.md)。
