"""What Mi Browser's server counts as a URL: any generated web address, in any case, with
text around it or percent-encoded, is found; names, counts and words are not."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from charter.services.browser import find_url, looks_like_url

LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
TLD = st.sampled_from(["com", "org", "in", "de", "co.uk", "example", "app", "xyz"])
PATH = st.from_regex(r"(/[a-z0-9._~-]{0,12}){0,3}", fullmatch=True)
SCHEME = st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", "chrome://", ""])
NAME = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)


@given(SCHEME, st.lists(LABEL, min_size=1, max_size=3), TLD, PATH, st.text(max_size=10))
def test_every_web_address_is_found(
    scheme: str, labels: list[str], tld: str, path: str, before: str
) -> None:
    url = scheme + ".".join([*labels, tld]) + path
    assert looks_like_url(url)
    assert looks_like_url(f"{before} {url} and more")
    assert looks_like_url(quote(url, safe=""))
    assert find_url({"reports": [{"module": "feed"}, {"event": url}]}) == "body.reports[1].event"


@given(st.lists(NAME, min_size=1, max_size=4), st.integers())
def test_names_and_counts_are_not_addresses(words: list[str], n: int) -> None:
    assert not looks_like_url(" ".join(words))
    assert not looks_like_url("_".join(words))
    assert find_url({"module": words[0], "event": "open", "value": n}) is None


def test_schemes_without_slashes_and_bare_hosts() -> None:
    for text in ("javascript:alert(1)", "data:text/html,x", "about:blank", "www.example",
                 "10.0.0.1/admin", "see example.org"):  # fmt: skip
        assert looks_like_url(text), text
    for text in ("weather tomorrow", "3.14", "v1.2.3", "e.g", "top_stories"):
        assert not looks_like_url(text), text
