"""The command lines: `python -m vae_core.train|evaluate|sweep|export_onnx` (thin entries at the package top).

Flags are generated from the config dataclasses (TrainConfig, ModelConfig); each CLI ends
with one JSON line on stdout and fails with one line on stderr.
"""
