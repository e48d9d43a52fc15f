"""Local stand-ins for remote services: GitHub, GitLab, the Kubernetes API, an OCI registry."""
