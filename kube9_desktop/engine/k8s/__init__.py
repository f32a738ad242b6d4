"""The Kubernetes API (core/v1, apps/v1) over HTTPS for kubectl and Kubernetes clients: reads."""
