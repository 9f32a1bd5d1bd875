"""Where webhooks may go: public addresses only, unless the allow-list names the target (issue 13)."""

import pytest

from wegweiser.referrals.delivery.addresses import AddressGuard, RefusedAddress, UnresolvedHost
from wegweiser.referrals.settings import OWN_HOSTS

DNS = {
    "partner.example": ["203.0.113.10"],  # TEST-NET-3 is not global either: see below
    "hooks.partner.de": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "rebound.partner.de": ["93.184.215.14", "169.254.169.254"],
    "intranet.partner.de": ["10.1.2.3"],
    "mapped.partner.de": ["::ffff:169.254.169.254"],
    "v6-local.partner.de": ["fe80::1%eth0"],
}


async def fake_dns(host: str, port: int) -> list[str]:
    if host not in DNS:
        raise OSError(f"no such host: {host}")
    return DNS[host]


def guard(*allowed: str) -> AddressGuard:
    return AddressGuard(allowed=allowed, own_hosts=OWN_HOSTS, resolver=fake_dns)


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",  # the cloud's metadata service
        "https://[fe80::1]/hook",
        "https://rebound.partner.de/hook",  # one of its addresses is enough
        "https://mapped.partner.de/hook",
        "https://v6-local.partner.de/hook",
        "https://intranet.partner.de/hook",
        "https://192.168.1.20/hook",
        "https://partner.example/hook",
        "http://127.0.0.1:8090/webhooks/x",
        "http://[::1]:8090/webhooks/x",
        "http://localhost:8003/v1/admin/partners",
        "https://casework:8002/v1/cases",  # our own hosts by name
        "https://referrals.wegweiser.svc.cluster.local/v1/admin/partners",
        "https://metadata.google.internal/computeMetadata/v1/",
    ],
)
async def test_loopback_link_local_private_and_own_hosts_are_refused(url: str) -> None:
    with pytest.raises(RefusedAddress):
        await guard().target(url)


async def test_a_public_host_is_pinned_to_the_address_that_was_checked() -> None:
    target = await guard().target("https://hooks.partner.de:8443/wegweiser?x=1")
    assert target.address == "93.184.215.14"
    assert str(target.request_url()) == "https://93.184.215.14:8443/wegweiser?x=1"
    assert target.request_headers() == {"Host": "hooks.partner.de:8443"}
    assert target.request_extensions() == {"sni_hostname": "hooks.partner.de"}


async def test_loopback_only_with_the_allow_list() -> None:
    with pytest.raises(RefusedAddress):
        await guard().target("http://127.0.0.1:8090/webhooks/x")
    target = await guard("127.0.0.1").target("http://127.0.0.1:8090/webhooks/x")
    assert str(target.request_url()) == "http://127.0.0.1:8090/webhooks/x"
    assert target.request_extensions() == {}  # plain http to loopback: no TLS name
    assert (await guard("10.1.0.0/16").target("https://intranet.partner.de/hook")).address == "10.1.2.3"
    assert (await guard("::1").target("http://[::1]:9/x")).request_url().host == "::1"
    with pytest.raises(RefusedAddress):  # the allow-list names that address, not every private one
        await guard("127.0.0.1").target("https://169.254.169.254/latest/meta-data/")


async def test_a_name_that_does_not_resolve_is_reported_as_such() -> None:
    with pytest.raises(UnresolvedHost):
        await guard().target("https://gone.partner.de/hook")
