"""Kube-9 Desktop: a small Kubernetes-style cluster on your desktop."""

__version__ = "0.1.0"
