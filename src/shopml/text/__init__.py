"""Texts: product titles, reviews and search queries classified by a small transformer encoder; its ONNX
export, INT8 quantisation and the drift reference the monitor compares served texts against.

Importing this package imports neither torch nor transformers.
"""

__all__: list[str] = []
