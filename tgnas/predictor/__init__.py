"""The TG-NAS predictor: a GCN over operator-embedded cell graphs (model, training, scoring)."""

from tgnas.predictor.model import GCN_PRESETS, GCNConfig, TGNASPredictorNet, gcn_preset
from tgnas.predictor.predictor import Predictor
from tgnas.predictor.train import TrainConfig, TrainResult, load_checkpoint, train

__all__ = ["GCN_PRESETS", "GCNConfig", "TGNASPredictorNet", "gcn_preset", "Predictor", "TrainConfig",
           "TrainResult", "load_checkpoint", "train"]
