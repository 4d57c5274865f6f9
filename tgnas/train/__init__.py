"""Final training of found architectures (DARTS / NB201 cells) on CIFAR-10 and ImageNet.

``config`` holds the settings and published presets, ``data`` the torchvision-free data
pipeline, ``loop`` the training loop (CPU, one GPU or DDP over N GPUs via ``torchrun``),
``cost`` network size, measured throughput and the hours of a paper-scale run.
"""

from tgnas.train.config import FinalTrainConfig, preset, resolve_config, split_params
from tgnas.train.loop import (FinalTrainData, FinalTrainResult, ParsedArch, StepInfo, StopFlag,
                              build_model, load_data, parse_architecture, train_final)

__all__ = ["FinalTrainConfig", "FinalTrainData", "FinalTrainResult", "ParsedArch", "StepInfo",
           "StopFlag", "build_model", "load_data", "parse_architecture", "preset", "resolve_config",
           "split_params", "train_final"]
