"""Builders of test repositories: kustomize trees, git clones and remotes, histories, plans."""
