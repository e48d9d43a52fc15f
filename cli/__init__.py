"""The ``pipelines`` and ``promote`` commands: parse, call ``promoter``, render, exit."""
