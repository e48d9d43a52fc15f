"""Code hosts ("forges") that promotions open change requests on.

``gitlab`` and ``gitlab_settings`` hold the GitLab door; ``promoter.github`` still holds the
GitHub one until the provider interface of issue 12 brings both under one Protocol here.
"""
