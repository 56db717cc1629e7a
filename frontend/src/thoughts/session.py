"""The logged-in user: the users backend's JWT in an HttpOnly cookie.

As in the book, the cookie holds the token and the frontend verifies it with
the public key (thoughts_common.tokens). Unlike the book, the cookie is
HttpOnly, SameSite=Lax, Secure over HTTPS and expires with the token.
"""

import dataclasses
import datetime as dt
import functools
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from thoughts_common import tokens

logger = logging.getLogger(__name__)

BEARER = "Bearer "


@dataclasses.dataclass(frozen=True)
class User:
    username: str
    token: str
    expires: dt.datetime


def public_key():
    """The key object of ``settings.JWT_PUBLIC_KEY`` (PEM text), parsed once per process and text."""
    if not settings.JWT_PUBLIC_KEY:
        raise ImproperlyConfigured("set JWT_PUBLIC_KEY (PEM text) or JWT_PUBLIC_KEY_FILE (a path to a PEM file)")
    try:
        return tokens.public_key_object(settings.JWT_PUBLIC_KEY, "JWT_PUBLIC_KEY")
    except tokens.KeyNotConfigured as exc:
        raise ImproperlyConfigured(str(exc)) from None


def user_from_token(token):
    """The user a token names; InvalidToken when it is not one of ours or expired."""
    if token.startswith(BEARER):
        token = token[len(BEARER) :]
    claims = tokens.decode(token, public_key())
    return User(claims["username"], token, dt.datetime.fromtimestamp(claims["exp"], dt.UTC))


def current_user(request):
    """The logged-in user of this request, or None (computed once per request)."""
    if not hasattr(request, "_thoughts_user"):
        request._thoughts_user = None
        token = request.COOKIES.get(settings.TOKEN_COOKIE)
        if token:
            try:
                request._thoughts_user = user_from_token(token)
            except tokens.InvalidToken as exc:
                logger.info("Token in the cookie refused (%s)", exc)
    return request._thoughts_user


def log_in(request, response, authorized):
    """Store the backend's ``Bearer <jwt>`` in the cookie, until the token expires."""
    user = user_from_token(authorized)
    max_age = max(0, int((user.expires - dt.datetime.now(dt.UTC)).total_seconds()))
    response.set_cookie(
        settings.TOKEN_COOKIE,
        user.token,
        max_age=max_age,  # Django derives Expires from it
        path="/",
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    logger.info("User %s logged in", user.username)
    return user


def log_out(response):
    response.delete_cookie(settings.TOKEN_COOKIE, path="/", samesite="Lax")
    return response


def safe_next(request, default="list-thoughts"):
    """Where to go after logging in: a local ``next`` URL, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse(default)


def redirect_to_login(request):
    """To the login page, coming back here afterwards; drops a refused token."""
    url = reverse("login")
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    response = redirect(url)
    if settings.TOKEN_COOKIE in request.COOKIES:
        log_out(response)
    return response


def login_required(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if current_user(request) is None:
            return redirect_to_login(request)
        return view(request, *args, **kwargs)

    return wrapper
