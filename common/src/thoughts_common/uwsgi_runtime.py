"""uWSGI's embedded ``uwsgi`` module, when this process runs under uWSGI."""


def module():
    """The ``uwsgi`` module uWSGI gives the Python it embeds, or None outside uWSGI.

    Outside uWSGI a folder named ``uwsgi`` on sys.path (``common/uwsgi/``, which
    holds the shared ini, when Python runs from ``common/``) imports as an empty
    namespace package: that is not uWSGI either.
    """
    try:
        import uwsgi
    except ImportError:
        return None
    return uwsgi if hasattr(uwsgi, "worker_id") else None
