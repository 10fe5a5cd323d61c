"""The product-photo CNN, its augmentation and the exported serving module.

Design (chosen for accuracy per second of CPU, not depth): a 5×5 convolution at full resolution with
one input channel is cheap, so it sees fine texture; pooling then halves the resolution before each
wider 3×3 block, keeping most multiply-adds at 14×14 and 7×7; global average pooling and dropout
before one linear layer keep the head small. Every convolution is conv → batch norm → ReLU.

Augmentation keeps the label: shifts of up to ``shift`` pixels (zero padding), horizontal flips
(garments and goods stay what they are mirrored), and random erasing of one small box.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from shopml.errors import ConfigError

__all__ = ["Augment", "Classifier", "Exported", "Serving", "build_cnn", "to_tensor"]


def _block(cin: int, cout: int, k: int = 3) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def build_cnn(
    n_classes: int, width: int = 32, dropout: float = 0.25, extra: bool = True, pool: int = 1
) -> nn.Sequential:
    """conv5(w) → pool → conv3(2w) [→ conv3(2w)] → pool → conv3(4w) → global average pool → dropout →
    linear; ``extra`` adds the second 14×14 block; ``pool=3`` average-pools to a 3×3 grid instead of one
    value per channel (keeps the coarse layout: where the sleeves are)."""
    if pool not in (1, 3):
        raise ConfigError(f"pool must be 1 (global) or 3 (a 3×3 grid), got {pool}")
    w = width
    layers: list[nn.Module] = [*_block(1, w, 5), nn.MaxPool2d(2), *_block(w, 2 * w)]
    if extra:
        layers += _block(2 * w, 2 * w)
    # 7×7 maps → 1×1 (global) or 3×3 (3×3 windows, stride 2: ONNX exports fixed windows, not adaptive
    # pooling to a size that does not divide 7)
    last = nn.AdaptiveAvgPool2d(1) if pool == 1 else nn.AvgPool2d(3, stride=2)
    layers += [nn.MaxPool2d(2), *_block(2 * w, 4 * w), last, nn.Flatten()]
    layers += [nn.Dropout(dropout), nn.Linear(4 * w * pool * pool, n_classes)]
    return nn.Sequential(*layers)


def to_tensor(x: Any) -> torch.Tensor:
    """uint8 photos ``[N, 28, 28]`` → float32 ``[N, 1, 28, 28]`` in [0, 1]."""
    return torch.as_tensor(x).float().div_(255.0).unsqueeze(1)


class Augment:
    """Label-keeping augmentation of a float batch ``[N, 1, H, W]`` drawn from ``generator``."""

    def __init__(self, shift: int = 2, flip: bool = True, erase: float = 0.25, seed: int = 0) -> None:
        self.shift = shift
        self.flip = flip
        self.erase = erase
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        g = self.generator
        s = self.shift
        out = x
        if s:
            padded = nn.functional.pad(x, (s, s, s, s))
            dx = torch.randint(0, 2 * s + 1, (n,), generator=g).tolist()
            dy = torch.randint(0, 2 * s + 1, (n,), generator=g).tolist()
            out = torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])
        if self.flip:
            flip = torch.rand(n, generator=g) < 0.5
            out = torch.where(flip[:, None, None, None], out.flip(3), out)
        if self.erase:
            out = out.clone()
            hit = (torch.rand(n, generator=g) < self.erase).nonzero().flatten().tolist()
            for i in hit:
                eh, ew = (int(v) for v in torch.randint(4, 11, (2,), generator=g))
                y0 = int(torch.randint(0, h - eh + 1, (1,), generator=g))
                x0 = int(torch.randint(0, w - ew + 1, (1,), generator=g))
                out[i, :, y0 : y0 + eh, x0 : x0 + ew] = 0.0
        return out


class Classifier(nn.Module):
    """Pixels in [0, 1] ``[N, 1, 28, 28]`` → normalised (training mean and standard deviation, kept as
    buffers) → the CNN → logits ``[N, C]``. Clients send plain pixels; the graph normalises."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, model: nn.Module, mean: float, std: float) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model((image - self.mean) / self.std)  # type: ignore[no-any-return]

    @property
    def layers(self) -> nn.Sequential:
        """The CNN (built by :func:`build_cnn`: its last two layers are dropout and the linear head)."""
        model = self.model
        if not isinstance(model, nn.Sequential) or not isinstance(model[-1], nn.Linear):
            raise TypeError("the classifier's model must be build_cnn's nn.Sequential ending in nn.Linear")
        return model

    @property
    def embedding_dim(self) -> int:
        """D of :meth:`embed`: the linear head's input width."""
        linear = self.layers[-1]
        assert isinstance(linear, nn.Linear)  # checked by layers
        return linear.in_features

    def embed(self, image: torch.Tensor) -> torch.Tensor:
        """The penultimate layer ``[N, D]``: after global pooling and flattening, before dropout and the
        linear head (what drift on photos is measured on)."""
        return self.layers[:-2]((image - self.mean) / self.std)  # type: ignore[no-any-return]

    def head(self, embedding: torch.Tensor) -> torch.Tensor:
        """Logits ``[N, C]`` from :meth:`embed`'s output (dropout, then the linear layer)."""
        return self.layers[-2:](embedding)  # type: ignore[no-any-return]


class Serving(nn.Module):
    """What ONNX exports: the classifier followed by softmax, ``probabilities`` ``[N, C]``.

    ``mirror`` (test-time augmentation): the probabilities are the mean of the photo's and its mirror
    image's, as training saw both (flips keep the label); one more forward pass a photo, and on
    Fashion-MNIST a third of a point of accuracy the training time would otherwise have to buy."""

    def __init__(self, classifier: Classifier, mirror: bool = False) -> None:
        super().__init__()
        self.classifier = classifier
        self.mirror = mirror

    def outputs(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``probabilities`` ``[N, C]`` and the ``embedding`` ``[N, D]`` of the photo as sent (not of its
        mirror image: drift is measured on what arrived)."""
        clf = self.classifier
        embedding = clf.embed(image)
        proba = torch.softmax(clf.head(embedding), dim=1)
        if self.mirror:
            proba = 0.5 * (proba + torch.softmax(clf(image.flip(3)), dim=1))
        return proba, embedding

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.outputs(image)[0]


class Exported(nn.Module):
    """The exported graph's outputs: ``probabilities`` ``[N, C]`` and ``embedding`` ``[N, D]`` (the
    penultimate layer, see :meth:`Classifier.embed`)."""

    def __init__(self, serving: Serving) -> None:
        super().__init__()
        self.serving = serving

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.serving.outputs(image)
