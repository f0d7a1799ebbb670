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
# # 手推线性回归与梯度下降 { #linear-regression-and-gradient-descent-by-hand }
#
# 交给 PyTorch 之前，先亲手做一遍：写出模型和损失函数，用纸笔推导梯度，只用普通的张量运算走一步梯度下降，再核对自动求导（autograd）算出的数字是否与手算一致。最后直接求出精确解，看看梯度下降走了 100 步之后离它还有多远。
#
# ## 数据与模型 { #the-data-and-the-model }
#
# 原课（《PyTorch深度学习实践》第 5 讲）的数据只有三个点，都落在直线 $y = 2x$ 上：
#
# | *x* | 1 | 2 | 3 |
# |-----|---|---|---|
# | *y* | 2 | 4 | 6 |
#
# 线性模型用**权重** $w$ 和**偏置** $b$ 做预测：$\hat{y} = w x + b$。所谓训练，就是找出合适的 $w$ 和 $b$，使预测值尽量接近 $y$。`linreg.lesson_data()` 把这组数据作为张量返回，`x` 和 `y` 的形状都是 `(3, 1)`：每行一个样本，每列一个特征。

# %%
import torch

import linreg

x, y = linreg.lesson_data()
print(x.shape, y.shape)
print(torch.cat([x, y], dim=1))

# %% [markdown]
# ## 损失函数 { #the-loss }
#
# 预测值与 $y$ 有多“接近”，原课用 $N = 3$ 个样本的误差平方和来衡量：
#
# $$
# L(w, b) = \sum_{i=1}^{N} \left(w x_i + b - y_i\right)^2
# $$
#
# 它就是没有除以 $N$ 的**均方误差**（PyTorch 中对应 `reduction='sum'`）。除以 $N$ 不会移动最小值点，只会把损失和梯度按同一比例缩小；这对学习率意味着什么，留到教程 2 再谈。
#
# 从 $w = 0.5$、$b = 0$ 出发，先手算一次损失：

# %%
w, b = 0.5, 0.0
y_pred = w * x + b  # (3, 1)
loss = ((y_pred - y) ** 2).sum()
print(f"损失 = {loss.item():.4f}")

# %% [markdown]
# ## 推导梯度 { #the-gradient-derived }
#
# 用链式法则求两个偏导数。每一项误差平方 $(w x_i + b - y_i)^2$ 的导数，都等于 2 倍误差乘以括号内表达式的导数：
#
# $$
# \frac{\partial L}{\partial w} = \sum_{i=1}^{N} 2 x_i \left(w x_i + b - y_i\right),
# \qquad
# \frac{\partial L}{\partial b} = \sum_{i=1}^{N} 2 \left(w x_i + b - y_i\right)
# $$
#
# 在当前参数下，两个偏导数都是负的：预测值偏小，所以增大 $w$ 或 $b$ 都能降低损失。

# %%
error = y_pred - y  # (3, 1)
grad_w = (2 * x * error).sum()
grad_b = (2 * error).sum()
print(f"dL/dw = {grad_w.item():.4f}, dL/db = {grad_b.item():.4f}")

# %% [markdown]
# ## 自动求导算出相同的梯度 { #autograd-computes-the-same-gradient }
#
# 现在让 PyTorch 求导：把 `w` 和 `b` 设为需要梯度的张量，算出同样的损失，再调用 `backward()`。自动求导在前向传播时记下每一步运算，再沿这些运算反向逐步应用链式法则，结果存入 `w.grad` 和 `b.grad`。
#
# 比较两份梯度要用 `torch.allclose`，而不是 `torch.equal`：前者容许极小的差异，后者要求每一位都相同。同一个数用两种都正确的方法计算，求和的顺序可能不同，最后一位的舍入也就可能不同；所谓“梯度相同”，是指在舍入误差范围内相等。

# %%
w_t = torch.tensor(0.5, requires_grad=True)
b_t = torch.tensor(0.0, requires_grad=True)
loss_t = ((w_t * x + b_t - y) ** 2).sum()
loss_t.backward()
print(
    f"自动求导：dL/dw = {w_t.grad.item():.4f}, dL/db = {b_t.grad.item():.4f}"
)
print(
    "与手算结果一致：",
    torch.allclose(w_t.grad, grad_w),
    torch.allclose(b_t.grad, grad_b),
)

# %% [markdown]
# ## 梯度下降走一步 { #one-step-of-gradient-descent }
#
# 梯度指向上坡方向，所以要朝反方向走一步，步长等于梯度乘以**学习率** $\alpha$：
#
# $$
# w \leftarrow w - \alpha \frac{\partial L}{\partial w},
# \qquad
# b \leftarrow b - \alpha \frac{\partial L}{\partial b}
# $$
#
# 和原课一样取 $\alpha = 0.01$，只走一步，损失就明显下降了：

# %%
lr = 0.01
w_new = w - lr * grad_w.item()
b_new = b - lr * grad_b.item()
loss_new = ((w_new * x + b_new - y) ** 2).sum()
print(f"w: {w} -> {w_new:.4f}   b: {b} -> {b_new:.4f}")
print(f"损失：{loss.item():.4f} -> {loss_new.item():.4f}")

# %% [markdown]
# ## 多走几步 { #many-steps }
#
# 把这一步反复执行，就是完整的算法。遍历一遍全部数据叫作一**轮**（epoch）；每一步都用上全部三个点，这叫**全批量**（full-batch）梯度下降。每轮结束时顺便记下偏置的值，稍后要看它一路怎样变化。

# %%
w, b = 0.5, 0.0
losses, biases = [], []
for epoch in range(100):
    error = w * x + b - y  # (3, 1)
    losses.append((error**2).sum().item())
    w -= lr * (2 * x * error).sum().item()
    b -= lr * (2 * error).sum().item()
    biases.append(b)

print(f"100 轮后：w = {w:.4f}, b = {b:.4f}, 损失 = {losses[-1]:.6f}")
peak = biases.index(max(biases))
print(f"b 在第 {peak + 1} 轮后达到最大：{biases[peak]:.4f}")

# %% alt="手推梯度下降 100 轮的损失曲线，横轴为轮数：损失在前几轮急剧下降，之后曲线变平，下降得很慢。"
linreg.plot_loss(losses, title="lr = 0.01", lang="zh")

# %% [markdown]
# 损失先是下降很快，随后越来越慢。100 轮之后离终点还有多远？要回答这个问题，先得知道终点在哪里。
#
# ## 闭式解 { #the-closed-form-answer }
#
# 对线性回归来说，其实根本不必迭代。在最小值点，两个偏导数都等于零（约掉因子 2）：
#
# $$
# \sum_{i=1}^{N} x_i \left(w x_i + b - y_i\right) = 0,
# \qquad
# \sum_{i=1}^{N} \left(w x_i + b - y_i\right) = 0
# $$
#
# 把输入排成矩阵 $X$，在右边添一列 1（这一列与 $b$ 相乘），参数记作 $\theta = (w, b)^\top$，预测值就是 $X\theta$，上面两个方程合起来就是**正规方程**：
#
# $$
# X^\top X \, \theta = X^\top y
# $$
#
# 这里的 $X^\top X$ 只是一个 2 × 2 矩阵，用 `torch.linalg.solve` 一步就能解出 $\theta$：

# %%
X = torch.cat([x, torch.ones(3, 1)], dim=1)  # (3, 2)：添一列 1，对应 b
print(X.T @ X)  # (2, 3) @ (3, 2) -> (2, 2)
theta = torch.linalg.solve(X.T @ X, X.T @ y)  # (2, 1)：先 w，后 b
print(f"正规方程：w = {theta[0].item():.4f}, b = {theta[1].item():.1e}")

# %% [markdown]
# 只有一个特征时，这两个方程也能手解。第二个方程说明误差之和为零，由此得 $b = \bar{y} - w\bar{x}$，即最优直线必定经过数据的中心点 $(\bar{x}, \bar{y})$。把这个 $b$ 代入第一个方程，得到
#
# $$
# w = \frac{\sum_i (x_i - \bar{x})(y_i - \bar{y})}{\sum_i (x_i - \bar{x})^2}
#   = \frac{\operatorname{cov}(x, y)}{\operatorname{var}(x)},
# \qquad
# b = \bar{y} - w\bar{x}
# $$
#
# `linreg.fit_closed_form` 用 `torch.linalg.lstsq` 在 float64 精度下求解同一个最小二乘问题，本站每次训练的结果都以它为参照。三种算法的结果应当一致：

# %%
x_c, y_c = x - x.mean(), y - y.mean()  # 中心化：把中心点移到 (0, 0)
w_formula = (x_c * y_c).sum() / (x_c**2).sum()
b_formula = y.mean() - w_formula * x.mean()
print(f"协方差/方差：w = {w_formula.item():.4f}, b = {b_formula.item():.1e}")

w_star, b_star = linreg.fit_closed_form(x, y)
print(f"linreg:      w = {w_star.item():.4f}, b = {b_star.item():.1e}")

theta_star = torch.cat([w_star.flatten(), b_star])  # (2,)
print(
    "三者一致：",
    torch.allclose(theta.flatten(), theta_star, atol=1e-6),
    torch.allclose(torch.stack([w_formula, b_formula]), theta_star, atol=1e-6),
)

# %% [markdown]
# 不计舍入误差，三种算法给出的 $b$ 都是零。float32 只有大约七位有效数字，所以用 float32 解方程，结果偏离 0 几个 $10^{-7}$；`fit_closed_form` 用 float64 计算，偏差只在 $10^{-15}$ 量级；中心化公式用到的则恰好都是能精确表示的数。所以这里用科学计数法打印 $b$：正负号和数量级一目了然，一看就知道是舍入误差；套上 `abs()` 或只保留四位小数，反而会把这些信息藏起来。出于同样的原因，比较时要传入 `atol=1e-6`：在零附近，`allclose` 的相对容差不起作用，而默认的绝对容差 `1e-8` 比 float32 能分辨的精度还细。
#
# 现在看看梯度下降还差多远：

# %%
print(f"100 轮后：w = {w:.4f}, b = {b:.4f}")
print(f"w 的差距：{abs(w - w_star.item()):.4f}")
print(f"b 的差距：{abs(b - b_star.item()):.4f}")

# %% [markdown]
# 说这已经“接近”最优解，未免过于宽容。$w$ 离 2 还差 0.118，约 6%；$b$ 离 0 还有 0.268，可它**一开始就是 0**。最初几轮 $w$ 还远远偏小，抬高 $b$ 是让三个预测值一起变大的捷径，于是 $b$ 在第 10 轮后涨到了 0.505，此后只回落了一半左右。最后这段路为什么这么慢，教程 2 会给出解释：沿着 $w$ 与 $b$ 此消彼长的那个方向，损失函数几乎是平的。
#
# ## 既然有闭式解，为什么还要梯度下降？ { #why-gradient-descent-then }
#
# 答案一次 `solve` 就能算出，为什么还要一步步迭代？因为闭式解的适用范围很有限：
#
# - 它需要 $X^\top X$。有 $d$ 个特征时，这是一个 $d \times d$ 矩阵，求解的运算量约为 $d^3$。只有一个特征时这点计算量微不足道，特征一多代价就很高；而几个特征近乎线性相关时，求解在数值上也不稳定。
# - 它需要一次拿到全部数据。梯度下降可以每次只用一个小批量，数据放不进内存也没关系（见[教程 5](05-minibatches.md)）。
# - 只有线性模型才有这样的闭式解。神经网络没有正规方程可解，训练它用的却正是这个循环：前向传播、计算损失、求梯度、走一步。
#
# 梯度下降才是通用的工具；而学习它，最好从这样一个精确解已知的问题入手：每次训练的结果都能与精确解核对。
#
# ## 小结 { #what-to-remember }
#
# - 模型是 $\hat{y} = wx + b$；损失函数把误差平方加起来。
# - 梯度由链式法则得到，自动求导算出的数字与手算一致；核对两个浮点计算的结果是否一致，要用 `torch.allclose`。
# - 梯度下降逆着梯度的方向走，每一步走多远由学习率控制。
# - 线性回归有闭式解，即正规方程 $X^\top X\theta = X^\top y$ 的解；梯度下降一步一步地逼近它，越到后面越慢。
#
# 下一篇：[用 PyTorch 的组件重现原课](02-pytorch-lesson.md)。
#
# ## 练习 { #exercises }
#
# **1.** 先手算 $w = 1$、$b = 1$ 处的梯度，再用自动求导验证。

# %% [markdown] tags=["solution"]
# 三个误差 $w x_i + b - y_i$ 分别是 $2 - 2 = 0$、$3 - 4 = -1$ 和 $4 - 6 = -2$，所以 $\partial L/\partial w = 2(1 \cdot 0 + 2 \cdot (-1) + 3 \cdot (-2)) = -16$，$\partial L/\partial b = 2(0 - 1 - 2) = -6$。

# %% tags=["solution"]
w_1 = torch.tensor(1.0, requires_grad=True)
b_1 = torch.tensor(1.0, requires_grad=True)
((w_1 * x + b_1 - y) ** 2).sum().backward()
by_hand = torch.tensor([-16.0, -6.0])
print(f"(1, 1) 处的自动求导结果：dL/dw = {w_1.grad.item()}, dL/db = {b_1.grad.item()}")
assert torch.allclose(torch.stack([w_1.grad, b_1.grad]), by_hand)

# %% [markdown]
# **2.** 从 $w = 0.5$、$b = 0$ 出发，学习率取 0.02（而不是 0.01），走第一步。走完后损失是多少？梯度直接用自动求导留在 `w_t.grad` 和 `b_t.grad` 中的值。

# %% [markdown] tags=["solution"]
# 步子加倍：$w = 0.5 + 0.02 \cdot 42 = 1.34$，$b = 0.02 \cdot 18 = 0.36$。三个误差变为 $-0.3$、$-0.96$ 和 $-1.62$，损失为 $0.09 + 0.9216 + 2.6244 = 3.636$，比学习率取 0.01 时的 14.094 低得多。代码中用 `.detach()` 把参数的值取成普通张量；不加它，`w_next` 就会成为自动求导为 `w_t` 记录下的又一步运算。

# %% tags=["solution"]
w_next = w_t.detach() - 0.02 * w_t.grad
b_next = b_t.detach() - 0.02 * b_t.grad
loss_next = ((w_next * x + b_next - y) ** 2).sum()
print(f"w = {w_next.item():.4f}, b = {b_next.item():.4f}")
print(f"学习率取 0.02 走一步后的损失：{loss_next.item():.4f}")
assert abs(loss_next.item() - 3.636) < 1e-4

# %% [markdown]
# **3.** 梯度下降停在 $w = 1.8821$。保持这个 $w$ 不变，$b$ 取多少时损失最小？把这时的损失与训练所得 $(w, b)$ 的损失比较一下。

# %% [markdown] tags=["solution"]
# 固定 $w$，令 $\partial L/\partial b = 0$，得 $b = \bar{y} - w\bar{x} = 4 - 2w$，对任何 $w$ 都成立。这时三个误差是 $(w - 2)(x_i - 2)$，损失为 $2(w - 2)^2$。训练所得的 $b$ 比这个 $w$ 对应的最优 $b$ 略高，所以训练出的直线还没有经过中心点；不过剩余的损失大部分来自 $w$ 本身的偏差。

# %% tags=["solution"]
b_best = y.mean().item() - w * x.mean().item()
loss_trained = ((w * x + b - y) ** 2).sum().item()
loss_best = ((w * x + b_best - y) ** 2).sum().item()
print(f"w = {w:.4f} 时最优的 b：{b_best:.4f}（训练所得 {b:.4f}）")
print(f"损失：取最优 b 时 {loss_best:.6f}，训练所得 {loss_trained:.6f}")
assert abs(loss_best - 2 * (w - 2) ** 2) < 1e-6

# %% [markdown]
# **4.** 把误差平方的总和换成平均值（`reduction='mean'`）。在 $w = 0.5$、$b = 0$ 处梯度是多少？学习率取 0.01 时第一步走到哪里？用 `torch.nn.functional.mse_loss` 验证梯度。

# %% [markdown] tags=["solution"]
# 平均值等于总和除以 $N = 3$，梯度也随之除以 $N$：由 $(-42, -18)$ 变为 $(-14, -6)$。学习率不变，步长就只剩三分之一：$w = 0.64$，$b = 0.06$。学习率取多少才能让两者走出同样的步子？这是教程 2 的一道练习。

# %% tags=["solution"]
w_m = torch.tensor(0.5, requires_grad=True)
b_m = torch.tensor(0.0, requires_grad=True)
torch.nn.functional.mse_loss(w_m * x + b_m, y, reduction="mean").backward()
print(f"平均值：dL/dw = {w_m.grad.item():.4f}, dL/db = {b_m.grad.item():.4f}")
w_step = w_m.item() - lr * w_m.grad.item()
b_step = b_m.item() - lr * b_m.grad.item()
print(f"学习率 0.01 的第一步：w = {w_step:.4f}, b = {b_step:.4f}")
assert torch.allclose(w_m.grad, grad_w / 3)
assert torch.allclose(b_m.grad, grad_b / 3)
