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
# # The loss surface
#
# The lesson's loss is a bowl in $(w, b)$ whose curvature is the Hessian $H = 2X^\top X$.

# %%
import torch

import linreg

x, y = linreg.lesson_data()
X = torch.cat([x, torch.ones(3, 1)], dim=1).double()
eigenvalues = torch.linalg.eigvalsh(2 * X.T @ X)
print(f"condition number: {(eigenvalues[-1] / eigenvalues[0]).item():.1f}")
