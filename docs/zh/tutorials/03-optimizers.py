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
# 原课最后留了一道练习：把 `SGD` 换成 `torch.optim` 中的其他优化器，比较它们的损失曲线。要比较得公平，每次只能改变一个因素。因此，这里的每个优化器都从**相同**的初始权重出发，使用相同的数据、相同的损失函数（`reduction="sum"`）和相同的学习率 `lr=0.01`，训练 100 轮（epoch）。
#
# `linreg.compare` 正是这样做的：它用一个随机种子初始化一个模型，再把这组权重复制给每个优化器，各用一份。

# %%
import torch

import linreg

x, y = linreg.lesson_data()
print("优化器:", ", ".join(linreg.OPTIMIZERS))

runs = linreg.compare(
    list(linreg.OPTIMIZERS), x, y, epochs=100, lr=0.01, reduction="sum", seed=0
)
print(
    "起点全都相同:", len({run.losses[0] for run in runs.values()}) == 1
)

# %% [markdown]
# `LBFGS` 是个例外：它每走一步都要多次计算损失，所以它的 `step()` 需要一个**闭包**（closure），也就是一个重新计算损失及其梯度的函数。`linreg.train` 会识别这种情况并自动传入闭包；手写的话是这样：
#
# ```python
# def closure():
#     optimizer.zero_grad()
#     loss = criterion(model(x), y)
#     loss.backward()
#     return loss
#
# optimizer.step(closure)
# ```
#
# ## 损失曲线 { #the-loss-curves }
#
# 每个优化器一张小图，纵轴刻度各不相同：

# %% alt="十二张小图排成网格，每个优化器一张，各画出学习率为 0.01 时训练 100 轮的损失曲线，纵轴刻度各不相同。"
linreg.plot_comparison(runs, kind="grid", lang="zh")

# %% [markdown]
# 再把这些曲线画在同一张图上，损失轴取对数刻度，这样即使曲线之间相差好几个数量级，差别也一目了然：

# %% alt="十二条损失曲线画在同一张图上，损失轴为对数刻度：Rprop 和 LBFGS 远远低于其他曲线，SGD 和 ASGD 停在 0.15 左右，Adagrad 和 Adadelta 几乎不动。"
linreg.plot_comparison(runs, kind="overlay", lang="zh")

# %% [markdown]
# ## 结果 { #the-results }
#
# 下表列出最终损失、学到的 $w$ 和 $b$（正确答案是 $w = 2$、$b = 0$）、在 $x = 4$ 处的预测值（正确答案是 8），以及每个优化器计算损失的次数：

# %%
header = ["优化器", "最终损失", "w", "b", "ŷ(4)", "损失计算次数"]
print("{:<7}{:>8}{:>9}{:>9}{:>9}{:>7}".format(*header))
for name, run in runs.items():
    w, b = run.weight.item(), run.bias.item()
    row = [name, run.final_loss, w, b, 4 * w + b, run.loss_evaluations]
    print("{:<10}{:>12.3g}{:>9.4f}{:>9.4f}{:>9.4f}{:>13}".format(*row))

# %% [markdown]
# ## 为什么 Adam 一族在 `lr=0.01` 下进展缓慢 { #why-the-adam-family-crawls-at-lr001 }
#
# SGD 每一步让参数移动的量，是 `lr` 乘以该参数的梯度。这里的损失是求和形式，一开始梯度很大，所以即使 `lr=0.01`，头几步也迈得很大。
#
# Adam 及其变体 AdamW、Adamax、NAdam 和 RAdam 则不同：它们一边训练，一边用滑动平均估计梯度有多大，再用梯度除以这个估计值。结果是**不论梯度多大**，每个参数每步大约都只移动 `lr`：每轮 0.01，100 轮下来最多移动 1 左右。来看看从同一起点出发，各优化器迈出的第一步：

# %%
for name in ["SGD", "Adam", "Adagrad", "RMSprop"]:
    torch.manual_seed(0)
    model = linreg.LinearModel()
    start = model.linear.weight.item()
    optimizer = linreg.make_optimizer(name, model.parameters(), lr=0.01)
    linreg.train(
        model, x, y, linreg.make_criterion("sum"), optimizer, epochs=1
    )
    step = model.linear.weight.item() - start
    print(f"{name:<8} 第一步让 w 移动了 {step:+.4f}")

# %% [markdown]
# 每个优化器都是围绕各自的默认学习率设计的。在构建本页所用的 torch 中，这些默认值如下：

# %%
import inspect

for name, optimizer_class in linreg.OPTIMIZERS.items():
    default_lr = inspect.signature(optimizer_class).parameters["lr"].default
    print(f"{name:<9} lr={default_lr}")

# %% [markdown]
# - **Adam、AdamW、Adamax 和 NAdam** 每步让 $w$ 移动约 `lr`，而 $w$ 要走的距离约为 2。走 100 步、每步 0.01，它们到不了终点。
# - **RAdam** 是启动阶段经过“修正”（rectified）的 Adam：在对梯度大小的估计还不可靠时，它走的是普通的动量步，而这里的动量步很大。正是开头这段抢跑，让它最终远远甩开了 Adam。
# - **Adagrad** 除以的是以往所有梯度平方**之和**的平方根，所以步长越走越小：它比 Adam 还慢。
# - **Adadelta** 本应在默认学习率附近使用；学习率为 0.01 时，它的步长微乎其微。
# - **RMSprop** 同样做归一化，但它的滑动平均遗忘得快，第一步也比 Adam 大。
# - **Rprop** 只用梯度的**符号**：只要符号保持不变，就把各个步长按一定倍数放大，所以在这个光滑的问题上加速很快。
# - **LBFGS** 会建立一个曲率模型，对二次损失来说这个模型几乎是精确的；它能到达最小值点，但请看它的损失计算次数：每一步都要计算很多次损失。
# - **SGD** 的表现符合教程 2 的分析：沿陡峭方向快，沿平坦方向慢。**ASGD**（平均 SGD）的结果与 SGD 几乎完全一样。
#
# ## 其他学习率 { #other-learning-rates }
#
# 同一个学习率，放在不同的优化器上效果大不一样：每个优化器都有自己适用的范围。下表是几种学习率下训练 100 轮后的最终损失。SGD 一旦超过稳定上限就会发散，所以 SGD 只在低于上限的学习率下训练，其余格子记为“发散”。

# %%
bound = linreg.stable_lr(x, "sum")
print(f"SGD 的稳定上限: {bound:.4f}\n")
learning_rates = [0.01, 0.05, 0.1, 0.5]
print(
    f"{'优化器':<7}"
    + "".join(f"{'lr=' + str(lr):>12}" for lr in learning_rates)
)
for name in ["SGD", "Adam", "RMSprop", "Adagrad", "Rprop"]:
    row = f"{name:<10}"
    for lr in learning_rates:
        if name == "SGD" and lr >= bound:
            row += f"{'发散':>10}"
            continue
        run = linreg.compare({name: {"lr": lr}}, x, y, epochs=100)[name]
        row += f"{run.final_loss:>12.3g}"
    print(row)

# %% [markdown]
# `lr` 调大以后，Adam 和 RMSprop 追了上来，Adagrad 也变得可用；SGD 则受制于上限。不存在普遍意义上“最好”的优化器：在这样一个很小的纯二次问题上，利用二阶信息（LBFGS）或只看符号（Rprop）的方法轻松胜出；而到了规模大、带噪声、要用小批量训练的问题上（教程 4），自适应方法才显出真正的优势。
#
# ## 自己试一试 { #try-it-yourself }
#
# 同样的比较也可以在终端中运行，并保存图片：
#
# ```bash
# linreg compare --lr 0.01 --epochs 100 --plot compare.png
# ```
#
# 下一篇：[小批量](05-minibatches.md)。
