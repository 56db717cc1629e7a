"""Every page against the real backends (Django's test client -> uWSGI backends over HTTP)."""

import datetime as dt
import html
import re
import uuid

import pytest
from django.test import Client
from frontend_testing import csrf_token

from thoughts_common import contract, tokens

pytestmark = pytest.mark.usefixtures("live")

BRUCE_DEMO = "A few seconds more and we'll know wether we have succeeded or not!"
STEPHEN_DEMO = "Naturally! All who come to me are! Speak..."
OLDER_LINK = re.compile(r'id="older-page" href="([^"]+)"')


def shown(response, text):
    return html.escape(text) in response.content.decode()


def texts_on(response):
    return [
        html.unescape(t)
        for t in re.findall(r'class="card-text thought-text"[^>]*>(.*?)</p>', response.content.decode(), re.S)
    ]


# Logging in and out


def test_login_page_has_the_form_with_a_csrf_token(client):
    response = client.get("/login/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Please enter your login and password" in page
    assert csrf_token(page)
    assert "/static/bootstrap/bootstrap.min.css" in page


def test_login_sets_an_httponly_lax_cookie_that_expires_with_the_token(client, rsa_key_pair):
    response = client.post("/login/", {"username": "bruce", "password": "bruce"})

    assert response.status_code == 302
    assert response["Location"] == "/thoughts/"
    cookie = response.cookies["session"]
    claims = tokens.decode(cookie.value, rsa_key_pair[1])
    assert claims["username"] == "bruce"
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] == ""  # plain HTTP
    assert cookie["path"] == "/"
    remaining = claims["exp"] - dt.datetime.now(dt.UTC).timestamp()
    assert abs(int(cookie["max-age"]) - remaining) <= 5
    expires = dt.datetime.strptime(cookie["expires"], "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=dt.UTC)
    assert abs(expires.timestamp() - claims["exp"]) <= 5


def test_the_cookie_is_secure_over_https(client):
    response = client.post("/login/", {"username": "bruce", "password": "bruce"}, secure=True)
    assert response.cookies["session"]["secure"] is True


def test_wrong_password_shows_the_books_warning(client):
    response = client.post("/login/", {"username": "bruce", "password": "wrong"})

    assert response.status_code == 401
    assert shown(response, "Invalid login/password, please try again.")
    assert "session" not in response.cookies
    assert 'value="bruce"' in response.content.decode()


def test_unknown_user_gets_the_same_warning(client):
    response = client.post("/login/", {"username": f"nobody-{uuid.uuid4().hex[:6]}", "password": "x"})
    assert response.status_code == 401
    assert shown(response, "Invalid login/password, please try again.")


def test_blank_fields_are_refused_without_asking_the_backend(client):
    response = client.post("/login/", {"username": " ", "password": ""})
    assert response.status_code == 400
    assert shown(response, "Please enter your username and password.")


def test_pages_that_need_a_login_send_to_it_and_back(client):
    response = client.get("/thoughts/?before=3")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fthoughts%2F%3Fbefore%3D3"

    form = client.get(response["Location"])
    assert 'name="next" value="/thoughts/?before=3"' in form.content.decode()
    logged_in = client.post("/login/", {"username": "bruce", "password": "bruce", "next": "/thoughts/?before=3"})
    assert logged_in["Location"] == "/thoughts/?before=3"


def test_next_never_leaves_the_site(client):
    response = client.post("/login/", {"username": "bruce", "password": "bruce", "next": "https://evil.example/"})
    assert response["Location"] == "/thoughts/"


def test_logout_deletes_the_cookie(client, login):
    login("bruce", "bruce")
    assert client.get("/thoughts/").status_code == 200

    confirmation = client.get("/logout/")
    assert confirmation.status_code == 200 and "Do you want to log out?" in confirmation.content.decode()
    assert client.get("/thoughts/").status_code == 200  # GET alone does not log out

    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert response.cookies["session"].value == ""
    assert response.cookies["session"]["max-age"] == 0
    assert client.get("/thoughts/").status_code == 302


def test_expired_token_sends_back_to_login(client, rsa_key_pair):
    expired = tokens.encode({"username": "bruce"}, rsa_key_pair[0], now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    client.cookies["session"] = expired

    response = client.get("/thoughts/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert response.cookies["session"].value == ""


def test_a_token_the_backend_refuses_sends_back_to_login(client, settings):
    """A 401 from the thoughts backend (a token it does not accept) means logging in again."""
    other_private, other_public = tokens.new_key_pair()
    settings.JWT_PUBLIC_KEY = other_public  # the frontend accepts it, the backend does not
    client.cookies["session"] = tokens.encode({"username": "bruce"}, other_private)

    listing = client.get("/thoughts/")
    assert listing.status_code == 302
    assert listing["Location"] == "/login/?next=%2Fthoughts%2F"
    assert listing.cookies["session"].value == ""

    client.cookies["session"] = tokens.encode({"username": "bruce"}, other_private)
    posting = client.post("/thoughts/new", {"text": "never stored"})
    assert posting.status_code == 302
    assert posting["Location"] == "/login/"


def test_forms_need_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    refused = client.post("/login/", {"username": "bruce", "password": "bruce"})
    assert refused.status_code == 403
    assert "Form expired" in refused.content.decode()

    token = csrf_token(client.get("/login/").content.decode())
    accepted = client.post("/login/", {"username": "bruce", "password": "bruce", "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302

    page = client.get("/thoughts/").content.decode()
    no_token = client.post("/thoughts/new", {"text": "cross-site"})
    assert no_token.status_code == 403
    with_token = client.post(
        "/thoughts/new", {"text": f"csrf ok {uuid.uuid4().hex}", "csrfmiddlewaretoken": csrf_token(page)}
    )
    assert with_token.status_code == 302
    logout = client.post("/logout/")
    assert logout.status_code == 403


# The user's thoughts


def test_list_shows_the_users_thoughts_and_not_the_others(client, login, api):
    login("bruce", "bruce")
    for path in ("/", "/thoughts/"):
        response = client.get(path)
        assert response.status_code == 200
        assert shown(response, BRUCE_DEMO)
        assert not shown(response, STEPHEN_DEMO)
        assert 'id="nav-username"' in response.content.decode() and ">bruce<" in response.content.decode()
        assert "1962-05-11 09:53" in response.content.decode()


def test_list_of_a_user_without_thoughts(client, fresh_user):
    response = client.get("/thoughts/")
    assert response.status_code == 200
    assert "You have not shared any thought yet." in response.content.decode()


def test_sharing_a_thought(client, fresh_user, api):
    username, _, auth = fresh_user
    text = f"Sharing <b>this</b> & that, ünïcødé 日本 😀 {uuid.uuid4().hex}"

    response = client.post("/thoughts/new", {"text": text})

    assert response.status_code == 302
    assert response["Location"] == "/thoughts/"
    stored = api.my_thoughts(auth)
    assert [(t["username"], t["text"]) for t in stored] == [(username, text)]
    page = client.get("/thoughts/")
    assert texts_on(page) == [text]
    assert "<b>this</b>" not in page.content.decode()  # escaped, not markup


def test_line_breaks_count_once_and_250_characters_fit(client, fresh_user, api):
    _, _, auth = fresh_user
    text = "é" * 248 + "\r\n" + "x"  # 250 characters once CRLF is one line break

    response = client.post("/thoughts/new", {"text": text})

    assert response.status_code == 302
    assert api.my_thoughts(auth)[0]["text"] == "é" * 248 + "\nx"


@pytest.mark.parametrize("text", ["", "   ", "\r\n\t"], ids=["empty", "spaces", "whitespace"])
def test_blank_thought_is_refused_with_a_message(client, fresh_user, api, text):
    response = client.post("/thoughts/new", {"text": text})

    assert response.status_code == 400
    assert shown(response, "Your thought is empty: write something to share.")
    assert api.my_thoughts(fresh_user[2]) == []


def test_missing_text_field_is_refused(client, fresh_user, api):
    assert client.post("/thoughts/new", {}).status_code == 400
    assert api.my_thoughts(fresh_user[2]) == []


def test_over_long_thought_is_refused_and_kept_in_the_box(client, fresh_user, api):
    text = "y" * 251

    response = client.post("/thoughts/new", {"text": text})

    assert response.status_code == 400
    assert shown(response, "A thought has at most 250 characters; yours has 251.")
    assert f">{text}</textarea>" in response.content.decode()
    assert api.my_thoughts(fresh_user[2]) == []


def test_sharing_needs_a_login_and_a_post(client):
    assert client.post("/thoughts/new", {"text": "anonymous"})["Location"] == "/login/"
    assert client.get("/thoughts/new").status_code == 405


def test_list_shows_the_newest_first_and_pages_to_older_ones(client, fresh_user, api, settings):
    settings.PAGE_SIZE = 2
    texts = [f"page test {i} {uuid.uuid4().hex}" for i in range(5)]
    api.share(fresh_user[2], *texts)

    seen, url, pages = [], "/thoughts/", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += texts_on(response)
        pages += 1
        match = OLDER_LINK.search(response.content.decode())
        url = html.unescape(match.group(1)) if match else None
        if pages > 1:
            assert 'id="newest-page" href="/thoughts/"' in response.content.decode()
        else:
            assert 'id="newest-page"' not in response.content.decode()

    assert pages == 3
    assert seen == texts[::-1]


# Search


def test_search_works_logged_out(client, api):
    marker = uuid.uuid4().hex
    auth = api.token("stephen", "stephen")
    api.share(auth, f"Logged-out search finds {marker}")

    response = client.get("/search", {"search": marker})

    assert response.status_code == 200
    assert texts_on(response) == [f"Logged-out search finds {marker}"]
    assert "stephen" in response.content.decode()
    assert 'id="nav-username"' not in response.content.decode()


def test_search_is_case_insensitive(client, api):
    marker = uuid.uuid4().hex
    api.share(api.token("bruce", "bruce"), f"MiXeD CaSe {marker}")
    assert texts_on(client.get("/search", {"search": f"mixed case {marker}"})) == [f"MiXeD CaSe {marker}"]


def test_search_takes_percent_literally(client, api):
    marker = uuid.uuid4().hex
    api.share(api.token("bruce", "bruce"), f"{marker} 100% sure", f"{marker} 1000 times")

    exact = client.get("/search", {"search": f"{marker} 100%"})
    assert texts_on(exact) == [f"{marker} 100% sure"]
    assert "100%" in exact.content.decode()

    # As a SQL wildcard "10%" would match both; as a character it matches neither.
    none = client.get(f"/search?search={marker}+10%25")
    assert texts_on(none) == []
    assert "No results for your search" in none.content.decode()


def test_search_with_unicode(client, api):
    marker = uuid.uuid4().hex
    text = f"Café in Zürich, 日本 😀 {marker}"
    api.share(api.token("stephen", "stephen"), text)

    for term in ("Zürich", "日本 😀", "é in z"):
        response = client.get("/search", {"search": f"{term}"})
        assert text in texts_on(response), term
    assert "Zürich" in client.get("/search", {"search": "Zürich"}).content.decode()


def test_search_without_results(client):
    response = client.get("/search", {"search": f"nothing-like-{uuid.uuid4().hex}"})
    assert response.status_code == 200
    assert "No results for your search" in response.content.decode()


def test_a_search_longer_than_any_thought_is_a_400_page(client):
    response = client.get("/search", {"search": "z" * (contract.THOUGHT_MAX_LENGTH + 1)})
    assert response.status_code == 400
    assert f"no thought is longer than {contract.THOUGHT_MAX_LENGTH} characters" in response.content.decode()
    assert client.get("/search", {"search": "z" * contract.THOUGHT_MAX_LENGTH}).status_code == 200


def test_search_shows_the_newest_first_and_pages_to_older_ones(client, api, settings):
    settings.PAGE_SIZE = 2
    marker = uuid.uuid4().hex
    texts = [f"{marker} % number {i}" for i in range(5)]
    api.share(api.token("bruce", "bruce"), *texts)

    seen, url = [], f"/search?search={marker}+%25"
    while url:
        response = client.get(url)
        page = response.content.decode()
        seen += texts_on(response)
        newest = f'id="newest-page" href="/search?search={marker}+%25"'
        assert (newest in page) == ("before=" in url)
        match = OLDER_LINK.search(page)
        url = html.unescape(match.group(1)) if match else None
        if url:
            assert url.startswith(f"/search?search={marker}+%25&before=")

    assert seen == texts[::-1]


@pytest.mark.parametrize("before", ["x", "-1", "0", "²", "%D9%A1", "", str(2**31), str(2**63 - 1), "9" * 5000])
@pytest.mark.parametrize("page", ["/search?search=a&", "/thoughts/?"])
def test_a_bad_paging_position_is_a_400_page_not_a_backend_error(client, login, before, page):
    """The API's range (ASCII digits, 1 to the contract's largest id) is checked before asking it."""
    login("bruce", "bruce")
    response = client.get(f"{page}before={before}")
    assert response.status_code == 400
    assert "before must be the id of a thought, from 1 to 2147483647" in response.content.decode()


@pytest.mark.parametrize("page", ["/search?search=a&", "/thoughts/?"])
def test_the_largest_paging_position_is_fine(client, login, page):
    login("bruce", "bruce")
    assert client.get(f"{page}before={contract.MAX_ID}").status_code == 200


@pytest.mark.parametrize(
    "path", ["/search?search=a%00b", "/search?search=a&before=1%00", "/thoughts/?x%00=1", "/login/?next=%00"]
)
def test_nul_in_a_query_is_a_400_page(client, login, path):
    login("bruce", "bruce")
    response = client.get(path)
    assert response.status_code == 400
    assert "must not contain NUL characters" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/login/", {"username": "a\x00b", "password": "bruce"}),
        ("/login/", {"username": "bruce", "password": "a\x00b"}),
        ("/thoughts/new", {"text": "nul\x00byte"}),
    ],
)
def test_nul_in_a_form_is_a_400_page(client, login, api, path, form):
    login("bruce", "bruce")
    auth = api.token("bruce", "bruce")
    before = len(api.my_thoughts(auth))
    response = client.post(path, form)
    assert response.status_code == 400
    assert "must not contain NUL characters" in response.content.decode()
    assert len(api.my_thoughts(auth)) == before


# Sign-up (FEATURE_SIGNUP)


def test_signup_is_404_and_hidden_when_off(client):
    assert client.get("/signup/").status_code == 404
    assert client.post("/signup/", {"username": "x", "password": "y", "password2": "y"}).status_code == 404
    assert 'href="/signup/"' not in client.get("/login/").content.decode()


def test_signup_creates_the_account_and_logs_in(client, settings, api, rsa_key_pair):
    settings.FEATURE_SIGNUP = True
    assert 'href="/signup/"' in client.get("/login/").content.decode()
    assert client.get("/signup/").status_code == 200
    username = f"new{uuid.uuid4().hex[:8]}"

    response = client.post("/signup/", {"username": username, "password": "pw-1", "password2": "pw-1"})

    assert response.status_code == 302
    assert response["Location"] == "/thoughts/"
    assert tokens.decode(response.cookies["session"].value, rsa_key_pair[1])["username"] == username
    assert client.get("/thoughts/").status_code == 200
    assert api.token(username, "pw-1").startswith("Bearer ")


def test_signup_refuses_a_taken_name_and_differing_passwords(client, settings):
    settings.FEATURE_SIGNUP = True

    taken = client.post("/signup/", {"username": "bruce", "password": "pw", "password2": "pw"})
    assert taken.status_code == 409
    assert shown(taken, "Username bruce is already taken")
    assert "session" not in taken.cookies
    # The name typed is in the form, not in the navbar as if logged in.
    assert 'value="bruce"' in taken.content.decode() and "logout-button" not in taken.content.decode()

    differ = client.post("/signup/", {"username": "someone", "password": "a", "password2": "b"})
    assert differ.status_code == 400
    assert shown(differ, "The two passwords differ.")

    too_long = client.post("/signup/", {"username": "x" * 51, "password": "a", "password2": "a"})
    assert too_long.status_code == 400


# Plumbing


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_bootstrap_is_served_from_our_static_files(client):
    css = client.get("/static/bootstrap/bootstrap.min.css")
    assert css.status_code == 200
    assert b"Bootstrap" in b"".join(css.streaming_content)
    script = client.get("/static/bootstrap/bootstrap.bundle.min.js")
    script.close()  # a FileResponse holds its file open until closed
    assert script.status_code == 200


def test_unknown_page_is_a_404_page(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "There is no page here." in response.content.decode()


def test_unknown_host_is_refused(client):
    assert client.get("/healthz", HTTP_HOST="evil.example").status_code == 400
