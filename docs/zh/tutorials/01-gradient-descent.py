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
# 在让 PyTorch 代劳之前，我们先亲手做一遍：写出模型和损失函数，用纸笔推导梯度，只用普通的张量运算走一步梯度下降，再验证自动求导（autograd）算出的数字与手算结果完全一致。
#
# ## 数据与模型 { #the-data-and-the-model }
#
# 原课（课程《PyTorch深度学习实践》第 5 讲）使用三个点，它们都落在直线 $y = 2x$ 上：
#
# | *x* | 1 | 2 | 3 |
# |-----|---|---|---|
# | *y* | 2 | 4 | 6 |
#
# 线性模型用**权重** $w$ 和**偏置** $b$ 做预测：$\hat{y} = w x + b$。所谓训练，就是找到合适的 $w$ 和 $b$，让预测值尽量接近 $y$。`linreg.lesson_data()` 以张量形式返回这组数据，`x` 和 `y` 的形状都是 `(3, 1)`：每行一个样本，每列一个特征。

# %%
import torch

import linreg

x, y = linreg.lesson_data()
print(x.shape, y.shape)
print(torch.cat([x, y], dim=1))

# %% [markdown]
# ## 损失函数 { #the-loss }
#
# 为了衡量“接近”的程度，原课把 $N = 3$ 个样本的误差平方加起来：
#
# $$
# L(w, b) = \sum_{i=1}^{N} \left(w x_i + b - y_i\right)^2
# $$
#
# 这就是不除以 $N$ 的**均方误差**（在 PyTorch 中对应 `reduction='sum'`）。除以 $N$ 不会改变最小值点的位置，只会按比例缩放损失及其梯度；这对学习率有什么影响，留到教程 2 再讨论。
#
# 我们从 $w = 0.5$、$b = 0$ 出发，手算损失：

# %%
w, b = 0.5, 0.0
y_pred = w * x + b  # (3, 1)
loss = ((y_pred - y) ** 2).sum()
print(f"损失 = {loss.item():.4f}")

# %% [markdown]
# ## 推导梯度 { #the-gradient-derived }
#
# 由链式法则可以得到两个偏导数。每一项误差平方 $(w x_i + b - y_i)^2$ 的导数，等于误差的 2 倍乘以括号内表达式的导数：
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
# 现在让 PyTorch 来求导。把 `w` 和 `b` 标记为需要梯度的张量，算出同样的损失，再调用 `backward()`。自动求导会记录前向传播中的每一步运算，然后沿着这些运算反向应用链式法则，结果存放在 `w.grad` 和 `b.grad` 中。

# %%
w_t = torch.tensor(0.5, requires_grad=True)
b_t = torch.tensor(0.0, requires_grad=True)
loss_t = ((w_t * x + b_t - y) ** 2).sum()
loss_t.backward()
print(
    f"自动求导: dL/dw = {w_t.grad.item():.4f}, dL/db = {b_t.grad.item():.4f}"
)
print(
    "与手算结果相同:",
    torch.equal(w_t.grad, grad_w),
    torch.equal(b_t.grad, grad_b),
)

# %% [markdown]
# ## 梯度下降走一步 { #one-step-of-gradient-descent }
#
# 梯度指向上坡方向，所以我们朝相反的方向走一步，步长是梯度乘以**学习率** $\alpha$：
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
print(f"损失: {loss.item():.4f} -> {loss_new.item():.4f}")

# %% [markdown]
# ## 多走几步 { #many-steps }
#
# 把这一步不断重复，就是整个算法。遍历一遍全部数据称为一**轮**（epoch）；每一步都用上全部三个点，这种做法叫作**全批量**（full-batch）梯度下降。

# %%
w, b = 0.5, 0.0
losses = []
for epoch in range(100):
    error = w * x + b - y
    losses.append((error**2).sum().item())
    w -= lr * (2 * x * error).sum().item()
    b -= lr * (2 * error).sum().item()

print(f"100 轮后: w = {w:.4f}, b = {b:.4f}, 损失 = {losses[-1]:.6f}")

# %% alt="手推梯度下降 100 轮的损失曲线，横轴为轮数：损失在前几轮急剧下降，之后曲线变得平缓，只缓慢下降。"
linreg.plot_loss(losses, title="lr = 0.01", lang="zh")

# %% [markdown]
# 损失起初下降很快，随后变慢。100 轮之后，$w$ 和 $b$ 已经接近 2 和 0，但还没有完全到达：教程 2 会解释为什么最后这段路走得这么慢。
#
# ## 闭式解 { #the-closed-form-answer }
#
# 对线性回归来说，其实根本不必迭代：令两个偏导数都等于零，就得到一个线性方程组（称为**正规方程**），它的解就是精确的最小值点。`linreg.fit_closed_form` 用 `torch.linalg.lstsq` 求解同一个最小二乘问题，本站的每一次训练都拿它的结果作对照。

# %%
w_star, b_star = linreg.fit_closed_form(x, y)
print(f"闭式解: w = {w_star.item():.4f}, b = {abs(b_star.item()):.4f}")
print(f"w 的差距: {abs(w - w_star.item()):.4f}")
print(f"b 的差距: {abs(b - b_star.item()):.4f}")

# %% [markdown]
# ## 小结 { #what-to-remember }
#
# - 模型是 $\hat{y} = wx + b$；损失函数把误差平方加起来。
# - 梯度由链式法则得到，自动求导算出的数字与手算完全一致。
# - 梯度下降逆着梯度的方向走，每一步走多远由学习率控制。
# - 线性回归有闭式解；梯度下降一步一步地逼近它。
#
# 下一篇：[用 PyTorch 的组件重现原课](02-pytorch-lesson.md)。
