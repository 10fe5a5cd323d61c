"""The training problems of CNNs and RNNs shown and cured, with numbers (``shopml nn gradients``):
vanishing gradients in recurrent nets, exploding gradients with and without clipping, depth with and
without batch norm or residual connections, and overfitting with and without dropout, augmentation
and early stopping. See :mod:`shopml.nn.experiments.recurrent` and :mod:`shopml.nn.experiments.training`.
"""

from shopml.nn.experiments.run import Experiments, run_experiments

__all__ = ["Experiments", "run_experiments"]
