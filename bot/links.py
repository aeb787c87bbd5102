"""The official pages topic answers link: which sites count as official, and whether a link
goes to the page that answers the question ("deep"), to a portal's finder that leads there
("finder"), or only to a home page ("home"). The content check reports the share per language
(at least DEEP_SHARE of the topic answers must link deep or to a finder)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DEEP_SHARE = 0.90

# the official entry points of ../shared/domain/facts.md, and the ministry behind one of them
OFFICIAL_SITES = frozenset({
    "make-it-in-germany.com", "anerkennung-in-deutschland.de", "digital.diplo.de",
    "auswaertiges-amt.de", "netzwerk-iq.de", "faire-integration.de", "bamf.de", "kmk.org",
    "anabin.kmk.org", "arbeitsagentur.de", "antidiskriminierungsstelle.de", "bmas.de",
})

# start pages whose main content is the tool that names the person's next step: the
# Recognition portal's start page in each language opens with its Anerkennungs-Finder
FINDER_PAGES = re.compile(r"^https://www\.anerkennung-in-deutschland\.de/html/[a-z]{2}/index\.php$")

_URL = re.compile(r"https?://[^\s<>()\"']+")


def links_in(text: str) -> list[str]:
    """The URLs of a text, without trailing punctuation."""
    return [url.rstrip(".,;:!?") for url in _URL.findall(text)]


def site_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def is_official(url: str) -> bool:
    site = site_of(url)
    return any(site == s or site.endswith("." + s) for s in OFFICIAL_SITES)


def kind(url: str) -> str:
    """"deep", "finder" or "home" (a site's root, or a bare language root like /en/)."""
    if FINDER_PAGES.match(url):
        return "finder"
    path = urlsplit(url).path.strip("/")
    if not path or re.fullmatch(r"[a-z]{2}(/index\.(php|html?))?", path):
        return "home"
    return "deep"
