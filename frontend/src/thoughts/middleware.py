"""Request ids, request logging and backend failures as pages."""

import logging
import time

from django.core.exceptions import BadRequest
from django.shortcuts import render

from thoughts import backends, request_ids, session
from thoughts_common import inputs, logconfig, request_id, tracing

logger = logging.getLogger(__name__)


class RequestIdMiddleware:
    """Takes or creates X-Request-ID, logs the request in the book's lines, echoes the id.

    Outermost middleware: the id is bound before anything else logs, and the
    time covers the whole request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_ids.bind(request_id.accept_or_create(request.META.get(request_id.WSGI_KEY)))
        tracing.tag_request(request.request_id)
        started = time.perf_counter()
        logger.info("REQUEST %s %s", request.method, request.get_full_path())

        response = self.get_response(request)

        logger.info("RESPONSE TIME %d ms", round((time.perf_counter() - started) * 1000))
        logger.log(logconfig.response_level(response.status_code), "RESPONSE STATUS %d", response.status_code)
        response[request_id.HEADER] = request.request_id
        return response


class BackendFailureMiddleware:
    """A backend that fails is a page with 502/503/504; a backend 401 is a new login."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, backends.NotAuthenticated):
            logger.info("The %s backend refused the token: back to the login page", exception.service)
            return session.redirect_to_login(request)
        if isinstance(exception, backends.BackendFailure):
            context = {"failure": exception, "request_id": getattr(request, "request_id", "")}
            return render(request, "thoughts/backend_error.html", context, status=exception.status)
        return None


class InputRulesMiddleware:
    """Query parameters and form fields with NUL or a lone surrogate are a 400 page (handler400).

    The backends refuse them too; refused here, they never become a backend 400 shown as a 502.
    Placed after CsrfViewMiddleware: a forged form is still a 403 first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        fields = list(request.GET.lists())
        if request.method == "POST":
            fields += list(request.POST.lists())
        try:
            for name, values in fields:
                inputs.check_text(name, "a field name")
                for value in values:
                    inputs.check_text(value, name)
        except inputs.InvalidInput as exc:
            raise BadRequest(str(exc)) from None
        return None
