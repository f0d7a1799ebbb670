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
# # 损失曲面 { #the-loss-surface }
#
# 原课的损失是 $(w, b)$ 上的一个碗，它的曲率就是黑塞矩阵 $H = 2X^\top X$。

# %%
import torch

import linreg

x, y = linreg.lesson_data()
X = torch.cat([x, torch.ones(3, 1)], dim=1).double()
eigenvalues = torch.linalg.eigvalsh(2 * X.T @ X)
print(f"条件数：{(eigenvalues[-1] / eigenvalues[0]).item():.1f}")
