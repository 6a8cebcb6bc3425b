import ipaddress
import socket

import pytest

from pipeline.errors import InputError, InvalidWebhookUrl, TransientError
from pipeline.notify.ssrf import check_url, is_global, resolve_checked

NOT_GLOBAL = [
    "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
    "169.254.169.254", "169.254.0.1", "100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3",
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.0.8", "192.0.2.1",
    "198.18.0.1", "198.51.100.7", "203.0.113.9",
    "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "2001:db8::1",
    "100::1", "::127.0.0.1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::808:808",
    "2002:7f00:1::1", "2002:a00:1::1", "2002:a9fe:a9fe::1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe", "2001::1",
]  # fmt: skip
GLOBAL = [
    "8.8.8.8", "1.1.1.1", "93.184.215.14", "100.63.255.255", "100.128.0.1", "172.32.0.1",
    "2606:4700:4700::1111", "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
]  # fmt: skip


@pytest.mark.parametrize("address", NOT_GLOBAL)
def test_addresses_that_are_not_global_are_not_global(address):
    assert not is_global(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", GLOBAL)
def test_global_addresses_are_global(address):
    assert is_global(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://api.localhost./hook",
        "http://10.0.0.5/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://0/",
        "http://224.0.0.1/",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f.0.0.1/",
        "http://0x7f000001/",
        "http://127.1/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://127.0.0.1./",
        "http://[::1]/",
        "http://[::]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fe80::1%25eth0]/",
        "http://[fd00:ec2::254]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:7f00:1::1]/",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
    ],
)
def test_urls_to_addresses_that_are_not_global_are_refused(url):
    with pytest.raises(InvalidWebhookUrl, match="public address"):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "example.com/hook",
        "http://user:pass@example.com/hook",
        "http://user@example.com/hook",
        "http://:pass@example.com/hook",
        "http:///hook",
        "http://exa mple.com/",
        "http://example.com/\r\nX-Injected: 1",
        "http://example.com:0/",
        "http://example.com:99999/",
        "http://[::1/",
        "http://1.2.3.4.5/",
        "http://256.0.0.1/",
        "http://example.123/",
        "http://-bad-.example.com/",
        "http://exa$mple.com/",
    ],
)
def test_urls_that_are_not_plain_http_are_refused_even_when_private_is_allowed(url):
    with pytest.raises(InvalidWebhookUrl):
        check_url(url, allow_private=True)


def test_the_refusal_is_an_input_error_with_its_own_code():
    with pytest.raises(InputError) as caught:
        check_url("http://169.254.169.254/", allow_private=False)
    assert caught.value.code == "invalid_webhook_url"


def test_a_public_url_is_taken_apart():
    target = check_url("https://Hooks.Example.com:8443/in/pony?x=1#frag", allow_private=False)
    assert (target.scheme, target.host, target.port, target.target, target.ip) == (
        "https", "hooks.example.com", 8443, "/in/pony?x=1", None,
    )  # fmt: skip
    assert target.host_header == "hooks.example.com:8443"
    assert target.url_for(ipaddress.ip_address("93.184.215.14")) == (
        "https://93.184.215.14:8443/in/pony?x=1"
    )


def test_default_ports_and_paths_are_filled_in():
    assert check_url("http://example.com", allow_private=False).port == 80
    assert check_url("http://example.com", allow_private=False).target == "/"
    assert check_url("https://example.com", allow_private=False).host_header == "example.com"


def test_an_international_name_becomes_its_ascii_form():
    assert check_url("https://bücher.example/", allow_private=False).host == "xn--bcher-kva.example"


def test_global_address_literals_are_allowed_in_normal_form():
    assert check_url("http://8.8.8.8/", allow_private=False).ip == ipaddress.ip_address("8.8.8.8")
    assert check_url("http://134744072/", allow_private=False).host == "8.8.8.8"
    v6 = check_url("http://[2606:4700:4700::1111]:8080/", allow_private=False)
    assert v6.host == "2606:4700:4700::1111"
    assert v6.host_header == "[2606:4700:4700::1111]:8080"
    assert v6.url_for(v6.ip) == "http://[2606:4700:4700::1111]:8080/"  # type: ignore[arg-type]


def test_allowing_private_webhooks_lifts_the_address_rules():
    assert check_url("http://127.0.0.1:9000/hook", allow_private=True).host == "127.0.0.1"
    assert check_url("http://localhost/hook", allow_private=True).host == "localhost"
    assert check_url("http://0177.0.0.1/", allow_private=True).host == "127.0.0.1"


def resolving_to(*addresses: str):
    def resolver(host, port, family=0, type=0, proto=0, flags=0):
        assert type == socket.SOCK_STREAM
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in addresses
        ]

    return resolver


def not_resolving(host, port, family=0, type=0, proto=0, flags=0):
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_a_name_resolving_to_public_addresses_answers_all_of_them_once():
    resolver = resolving_to(
        "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "93.184.215.14"
    )
    addresses = resolve_checked("example.com", 443, allow_private=False, resolver=resolver)
    assert [str(a) for a in addresses] == [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]


@pytest.mark.parametrize(
    "addresses",
    [
        ("10.0.0.7",),
        ("169.254.169.254",),
        ("::1",),
        ("::ffff:127.0.0.1",),
        ("93.184.215.14", "127.0.0.1"),
    ],
)
def test_a_name_resolving_to_any_private_address_is_refused(addresses):
    with pytest.raises(InvalidWebhookUrl, match="not a public address"):
        resolve_checked(
            "rebind.example", 80, allow_private=False, resolver=resolving_to(*addresses)
        )


def test_allowing_private_webhooks_lets_a_name_resolve_to_loopback():
    addresses = resolve_checked(
        "rebind.example", 80, allow_private=True, resolver=resolving_to("127.0.0.1")
    )
    assert addresses == [ipaddress.ip_address("127.0.0.1")]


def test_a_name_that_does_not_resolve_is_a_transient_error():
    with pytest.raises(TransientError, match="could not resolve"):
        resolve_checked("nowhere.invalid", 80, allow_private=False, resolver=not_resolving)
    with pytest.raises(TransientError):
        resolve_checked("empty.example", 80, allow_private=False, resolver=resolving_to())


def test_the_real_resolver_resolves_loopback_literals():
    assert resolve_checked("127.0.0.1", 80, allow_private=True) == [
        ipaddress.ip_address("127.0.0.1")
    ]
    with pytest.raises(InvalidWebhookUrl):
        resolve_checked("127.0.0.1", 80, allow_private=False)
