"""Binding the shared request-id context variable to Django's request cycle.

``thoughts_common.request_id`` holds the rules and the context variable; this
module only sets it when a request starts and clears it when Django has
finished the response (the ``request_finished`` signal), so that every line
logged for the request, Django's own included, carries the id.

(Generic, not Django-bound beyond the signal receiver: ``bind``/``unbind`` may
belong in thoughts_common.request_id.)
"""

import threading

from thoughts_common import request_id

_state = threading.local()


def bind(value):
    """Make ``value`` the current request id of this thread until ``unbind``."""
    unbind()
    _state.token = request_id.current.set(value)
    return value


def unbind():
    token = getattr(_state, "token", None)
    _state.token = None
    if token is None:
        return
    try:
        request_id.current.reset(token)
    except ValueError:
        # Set in another context (e.g. a different thread's copy): just clear it.
        request_id.current.set(request_id.NO_REQUEST)


def on_request_finished(sender, **kwargs):
    unbind()
