"""Image datasets the networks train and score on (CIFAR-10)."""
