"""linreg: linear regression in PyTorch, the lesson as a small tested package.

Examples:
    >>> import torch, linreg
    >>> x, y = linreg.lesson_data()
    >>> _ = torch.manual_seed(0)
    >>> model = linreg.LinearModel()
    >>> optimizer = linreg.make_optimizer("SGD", model.parameters(), lr=0.01)
    >>> history = linreg.train(model, x, y, linreg.make_criterion("sum"), optimizer, epochs=100)
    >>> len(history.losses)
    100

Data parallel training (several processes started by torchrun) lives in its own
namespace, like `torch.distributed`: `linreg.distributed.init_from_env()`,
`linreg.distributed.shard(x, y)`, `linreg.distributed.wrap(model)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from linreg import distributed as distributed  # a namespace, as torch.distributed
from linreg.checks import LinregError
from linreg.compare import compare
from linreg.data import lesson_data, load_csv, minibatches, synthetic_data
from linreg.loss import REDUCTIONS, legacy_reduction, make_criterion
from linreg.model import LinearModel, predict
from linreg.optim import OPTIMIZERS, SGDReference, make_optimizer
from linreg.solve import fit_closed_form, stable_lr
from linreg.surface import hessian, loss_grid, plot_fits, plot_surface, trajectory
from linreg.train import DivergenceError, History, train

if TYPE_CHECKING:
    from linreg.plot import plot_comparison, plot_fit, plot_loss, save_figure

__version__ = "0.1.0"

__all__ = [
    "OPTIMIZERS",
    "REDUCTIONS",
    "DivergenceError",
    "History",
    "LinearModel",
    "LinregError",
    "SGDReference",
    "compare",
    "fit_closed_form",
    "hessian",
    "legacy_reduction",
    "lesson_data",
    "load_csv",
    "loss_grid",
    "make_criterion",
    "make_optimizer",
    "minibatches",
    "plot_comparison",
    "plot_fit",
    "plot_fits",
    "plot_loss",
    "plot_surface",
    "predict",
    "save_figure",
    "stable_lr",
    "synthetic_data",
    "train",
    "trajectory",
]

_PLOTS = frozenset({"plot_comparison", "plot_fit", "plot_loss", "save_figure"})


def __getattr__(name: str) -> Any:
    """Import the plotting functions (and matplotlib) only when first used."""
    if name in _PLOTS:
        from linreg import plot

        return getattr(plot, name)
    raise AttributeError(f"module 'linreg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _PLOTS)
