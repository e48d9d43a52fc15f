"""Code hosts ("forges") that promotions open change requests on.

``provider`` holds the interface every host implements (``ChangeRequests``) and the record
it answers (``ChangeRequestInfo``); ``choice`` picks the provider and finds its repository,
API and token; ``gitlab`` and ``gitlab_settings`` hold the GitLab door (GitHub's is
``promoter.github``).
"""
