"""The address a login is counted against: ``REMOTE_ADDR``, or a trusted proxy's ``X-Forwarded-For``.

``X-Forwarded-For`` is believed only when it comes from an address in
``LOGIN_TRUSTED_PROXIES`` (e.g. the frontend, which logs users in
server-to-server and forwards the browser's address), and then only as far as
the chain of trusted proxies goes: the rightmost address that is not a trusted
proxy is the client, so a browser cannot pick its own address by sending the
header itself. IPv6 clients are counted per /64, the block one host usually has.
"""

import ipaddress

from thoughts_common import settings

FORWARDED_HEADER = "X-Forwarded-For"
SettingError = settings.SettingError


def trusted_proxies(value=None):
    """The networks of ``LOGIN_TRUSTED_PROXIES`` (addresses or CIDRs, separated by commas or spaces)."""
    value = settings.get("LOGIN_TRUSTED_PROXIES") if value is None else value
    networks = []
    for item in value.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingError(f"LOGIN_TRUSTED_PROXIES: {item!r} is not an address or a network") from None
    return tuple(networks)


def _parse(text):
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def normalise(text):
    """The key an address is counted under: IPv4 as is, IPv6 as its /64; unparsable text as given."""
    address = _parse(text)
    if address is None:
        return text.strip()[:50] or "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_address(remote_addr, forwarded_for, proxies):
    """The client's address from the connection's peer and the ``X-Forwarded-For`` header."""
    peer = _parse(remote_addr or "")
    if peer is None:
        return normalise(remote_addr or "")
    hop = peer
    if forwarded_for:
        for item in reversed(forwarded_for.split(",")):
            if not any(hop in network for network in proxies):
                break
            previous = _parse(item)
            if previous is None:
                break
            hop = previous
    return normalise(str(hop))
