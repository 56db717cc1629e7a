"""The ``thoughts`` app: the book's pages, backed by the users and thoughts services."""
