import pytest

from users_backend.client_address import SettingError, client_address, normalise, trusted_proxies

PROXIES = trusted_proxies("10.0.0.0/8, 192.168.1.5 fd00::/8")


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # not a trusted proxy: header ignored
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the browser's own header is not believed
        ("10.0.0.2", "198.51.100.1, 192.168.1.5", "198.51.100.1"),  # a chain of trusted proxies
        ("10.0.0.2", "10.0.0.3", "10.0.0.3"),
        ("10.0.0.2", "garbage", "10.0.0.2"),
        ("10.0.0.2", "", "10.0.0.2"),
        ("fd00::1", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.5", None, "203.0.113.5"),
    ],
)
def test_client_address(remote, forwarded, expected):
    assert client_address(remote, forwarded, PROXIES) == expected


def test_without_trusted_proxies_the_peer_counts():
    assert client_address("10.0.0.2", "198.51.100.1", trusted_proxies("")) == "10.0.0.2"


def test_ipv6_is_counted_per_64():
    assert normalise("2001:db8::1") == normalise("2001:db8::ffff:1") == "2001:db8::/64"


def test_a_bad_proxy_setting_names_the_variable():
    with pytest.raises(SettingError, match="LOGIN_TRUSTED_PROXIES: 'frontend' is not an address"):
        trusted_proxies("10.0.0.1, frontend")
