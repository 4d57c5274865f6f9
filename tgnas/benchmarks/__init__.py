"""Loaders for benchmark tables (NAS-Bench-101/201/301) and image datasets (CIFAR-10)."""
