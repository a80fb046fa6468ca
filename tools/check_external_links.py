#!/usr/bin/env python3
"""Check that every external link of the site answers: `python tools/check_external_links.py [FILE]`.

FILE lists one URL a line; tests/test_browser.py writes it to build/browser/external-links.txt from
the built site. This needs the internet, so only the online workflow (.github/workflows/ci.yml) runs
it, never the offline test suite. A link fails on a 404 or 410, or when it still fails after
retries (an error status of 500 or more, or no connection); 401, 403 and 429 (a site that turns
away robots or rate-limits) are reported but do not fail. Exit status: 0 when no link fails.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "build" / "browser" / "external-links.txt"
USER_AGENT = "Mozilla/5.0 (compatible; mi-course-link-check; +https://github.com/mi-course/mi-course)"
UNVERIFIABLE = {401, 403, 429}  # the page may well exist; the site refuses robots or asks us to slow down
TRIES = 3


def status_of(url: str, timeout: float) -> int | str:
    """The HTTP status of ``url`` (HEAD, then GET where HEAD is refused), or the error that stopped it."""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as error:
            if method == "HEAD" and error.code in {400, 403, 404, 405, 429, 501} | set(range(500, 600)):
                continue  # some servers answer HEAD badly: ask again with GET
            return error.code
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
            return f"{type(error).__name__}: {getattr(error, 'reason', error)}"
    return "no answer"


def check(url: str, timeout: float = 20.0, pause: float = 2.0) -> tuple[str, int | str, str]:
    """(url, last status, verdict) where verdict is "ok", "unverifiable" or "broken"."""
    for attempt in range(TRIES):
        status = status_of(url, timeout)
        if isinstance(status, int) and status < 400:
            return url, status, "ok"
        if status in UNVERIFIABLE:
            return url, status, "unverifiable"
        if status in (404, 410):
            return url, status, "broken"
        time.sleep(pause * (attempt + 1))
    return url, status, "broken"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "file", nargs="?", type=Path, default=DEFAULT_FILE, help=f"URLs, one a line (default: {DEFAULT_FILE})"
    )
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per request")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds before the first retry (doubles after)")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        print(
            f"{args.file} is missing: run the tests first (python3 dev.py test tests/test_browser.py)", file=sys.stderr
        )
        return 2
    urls = [line.strip() for line in args.file.read_text().splitlines() if line.strip()]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda url: check(url, args.timeout, args.pause), urls))
    for url, status, verdict in results:
        if verdict != "ok":
            print(f"{verdict}: {url} ({status})")
    broken = [url for url, _, verdict in results if verdict == "broken"]
    print(f"{len(urls)} external links: {len(urls) - len(broken)} answer or may, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
