"""Oversized requests as pages: the frontend's answers to thoughts_common.limits."""

from django.core.exceptions import BadRequest, RequestDataTooBig
from django.template.loader import render_to_string
from django.views.defaults import bad_request as django_bad_request

from thoughts import views
from thoughts_common import limits


def html_page(refusal):
    """The page of a refusal by the WSGI middleware (before Django sees the request)."""
    html = render_to_string("refused.html", refusal._asdict())
    return "text/html; charset=utf-8", html.encode()


def bad_request(request, exception):
    """handler400: our refusals' page with their reason, and a body over DATA_UPLOAD_MAX_MEMORY_SIZE a 413.

    Other 400s (a bad Host header, ...) keep Django's page, which tells nothing.

    Under uWSGI the middleware refuses such bodies first; this covers the app
    served without it (tests, ``runserver``).
    """
    if isinstance(exception, RequestDataTooBig):
        refusal = limits.BODY_TOO_LARGE
        response = django_bad_request(request, exception)
        response.status_code = refusal.status
        response.content = render_to_string("refused.html", refusal._asdict())
        return response
    if type(exception) is BadRequest:  # ours, with a reason the user should read
        return views.bad_request(request, exception)
    return django_bad_request(request, exception)
