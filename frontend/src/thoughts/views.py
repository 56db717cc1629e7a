"""The book's pages: your thoughts, share one, search, log in/out, and sign up (flag)."""

import datetime as dt
import logging
import math
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from thoughts import backends, session
from thoughts_common import contract, inputs

logger = logging.getLogger(__name__)

WRONG_LOGIN = "Invalid login/password, please try again."


def _before(request):
    """The keyset position of the page asked for (``?before=<id>``: older than that id), if any.

    Checked with the API's own rule (contract.position) so that a bad one is
    our 400 page with the API's message, not the backend's 400 shown as a 502.
    """
    value = request.GET.get("before")
    if value is None:
        return None
    try:
        return contract.position(value, "before")
    except inputs.InvalidInput as exc:
        raise BadRequest(f"{exc}: it is the position of a page, given by its Older link") from None


def _pager(request, page, next_before, **query):
    """Links to the newest page and to older ones, the position taken from the backend's Link header."""
    path = reverse(page)
    newest_url = f"{path}?{urlencode(query)}" if query else path
    older_url = f"{path}?{urlencode({**query, 'before': next_before})}" if next_before else None
    return {"newest_url": newest_url if _before(request) else None, "older_url": older_url}


def _displayable(thoughts):
    """Adds a parsed ``when`` to each thought (kept as text when it is not ISO 8601)."""
    shown = []
    for thought in thoughts:
        if not isinstance(thought, dict):
            continue
        item = dict(thought)
        try:
            item["when"] = dt.datetime.fromisoformat(str(thought.get("timestamp", "")))
        except ValueError:
            item["when"] = None
        shown.append(item)
    return shown


def _list_page(request, user, status=200, error=None, text=""):
    thoughts, next_before = backends.my_thoughts(user.token, settings.PAGE_SIZE, _before(request))
    context = {
        "thoughts": _displayable(thoughts),
        **_pager(request, "list-thoughts", next_before),
        "error": error,
        "text": text,
    }
    return render(request, "thoughts/list_thoughts.html", context, status=status)


@require_GET
@session.login_required
def list_thoughts(request):
    return _list_page(request, session.current_user(request))


@require_POST
@session.login_required
def new_thought(request):
    user = session.current_user(request)
    text = request.POST.get("text", "")
    if not text.strip():
        return _list_page(request, user, 400, "Your thought is empty: write something to share.")
    # Browsers send line breaks as CRLF; count them as one character like the text box does.
    text = text.replace("\r\n", "\n")
    limit = contract.THOUGHT_MAX_LENGTH
    if len(text) > limit:
        message = f"A thought has at most {limit} characters; yours has {len(text)}."
        return _list_page(request, user, 400, message, text)
    problem = contract.thought_problem(text)
    if problem:
        return _list_page(request, user, 400, problem, text)

    response = backends.new_thought(user.token, text)
    if response.status_code == 400:
        return _list_page(request, user, 400, backends.message_of(response), text)
    logger.info("User %s shared thought %s", user.username, response.json().get("id"))
    return redirect("list-thoughts")


@require_GET
def search(request):
    text = request.GET.get("search", "")
    if len(text) > contract.THOUGHT_MAX_LENGTH:
        # It could match nothing, and its backend URL could pass the backends' URI limit.
        raise BadRequest(f"no thought is longer than {contract.THOUGHT_MAX_LENGTH} characters: search for less")
    thoughts, next_before = backends.search(text, settings.PAGE_SIZE, _before(request))
    context = {
        "search": text,
        "thoughts": _displayable(thoughts),
        **_pager(request, "search", next_before, search=text),
    }
    return render(request, "thoughts/search.html", context)


@require_http_methods(["GET", "POST"])
def login(request):
    context = {"next": request.POST.get("next") or request.GET.get("next", "")}
    if request.method == "GET":
        return render(request, "thoughts/login.html", context)

    username = request.POST.get("username", "").strip()
    password = request.POST.get("password", "")
    # Not "username": that name is the logged-in user of the navbar (context processor).
    context["entered_username"] = username
    if not username or not password:
        context["warning"] = "Please enter your username and password."
        return render(request, "thoughts/login.html", context, status=400)

    answer = backends.login(username, password, request.META)
    if answer.status_code == 429:
        return _too_many_attempts(request, context, answer.headers.get("Retry-After", ""))
    if answer.status_code != 200:
        context["warning"] = WRONG_LOGIN if answer.status_code == 401 else backends.message_of(answer)
        return render(request, "thoughts/login.html", context, status=answer.status_code)
    return _logged_in(request, answer, session.safe_next(request))


def _too_many_attempts(request, context, retry_after):
    """The users backend throttles this username or address: say how long to wait, answer 429 too."""
    seconds = int(retry_after) if retry_after.isascii() and retry_after.isdigit() else None
    if seconds is None:
        context["warning"] = "Too many attempts, try again later."
    else:
        minutes = max(1, math.ceil(seconds / 60))
        context["warning"] = f"Too many attempts, try again in {minutes} minute{'s' if minutes > 1 else ''}."
    response = render(request, "thoughts/login.html", context, status=429)
    if seconds is not None:
        response["Retry-After"] = str(seconds)
    return response


def _logged_in(request, answer, target):
    try:
        authorized = answer.json()["Authorized"]
    except (ValueError, KeyError, TypeError):
        raise backends.BackendBroken(backends.USERS, "login answer without a token") from None
    response = redirect(target)
    session.log_in(request, response, authorized)
    return response


@require_http_methods(["GET", "POST"])
def logout(request):
    """POST logs out (CSRF-protected); GET asks for confirmation."""
    if request.method == "GET":
        return render(request, "thoughts/logout.html")
    user = session.current_user(request)
    if user:
        logger.info("User %s logged out", user.username)
    return session.log_out(redirect("login"))


@require_http_methods(["GET", "POST"])
def signup(request):
    if not settings.FEATURE_SIGNUP:
        raise Http404("Sign-up is not enabled")
    context = {}
    if request.method == "GET":
        return render(request, "thoughts/signup.html", context)

    username = request.POST.get("username", "").strip()
    password = request.POST.get("password", "")
    context["entered_username"] = username  # not "username": the navbar's logged-in user
    if not username or not password:
        context["warning"] = "Please choose a username and a password."
        return render(request, "thoughts/signup.html", context, status=400)
    if password != request.POST.get("password2", password):
        context["warning"] = "The two passwords differ."
        return render(request, "thoughts/signup.html", context, status=400)
    problem = contract.username_problem(username) or contract.password_problem(password)
    if problem:
        # The users backend's own rule and message, without the round trip.
        context["warning"] = problem
        return render(request, "thoughts/signup.html", context, status=400)

    answer = backends.sign_up(username, password)
    if answer.status_code == 404:
        logger.error("The users backend refuses sign-up (FEATURE_SIGNUP off there) while the frontend offers it")
        context["warning"] = "Sign-up is not available right now."
        return render(request, "thoughts/signup.html", context, status=503)
    if answer.status_code != 201:
        context["warning"] = backends.message_of(answer)
        return render(request, "thoughts/signup.html", context, status=answer.status_code)
    logger.info("User %s signed up", username)

    answer = backends.login(username, password, request.META)
    if answer.status_code == 429:
        # Created, but this address is throttled: the login page tells how long to wait.
        return _too_many_attempts(
            request, {"entered_username": username, "next": ""}, answer.headers.get("Retry-After", "")
        )
    if answer.status_code != 200:
        raise backends.BackendBroken(backends.USERS, f"login after sign-up answered {answer.status_code}")
    return _logged_in(request, answer, "list-thoughts")


def bad_request(request, exception):
    """handler400: the page of a request the frontend refuses, with the reason."""
    return render(request, "400.html", {"message": str(exception)}, status=400)


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})
