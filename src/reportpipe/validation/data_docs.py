"""The Great Expectations Data Docs site under the warehouse: rendered from the stored results, offline.

GX 1.24's page templates (great_expectations/render/view/templates/) load Bootstrap,
jQuery, bootstrap-table, Font Awesome and Vega from public CDNs and its logo from S3.
On an intranet machine the index then shows a header and no table: bootstrap-table
draws it in the browser. The same files at the same versions are committed in
`data_docs_assets/` (fetched once from the npm registry, each with its licence);
`make_offline` copies them into the site and points every page at them.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from reportpipe.validation.context import context

ASSETS_DIR = Path(__file__).with_name("data_docs_assets")
VENDOR_DIR = Path("static") / "vendor"  # inside the site, beside GX's own static/images

# Every CDN URL of GX 1.24's templates → the same file in data_docs_assets/ (npm package-version/path).
# The unversioned vega URLs served the newest 5.x/6.x when these were fetched.
ASSETS = {
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/build/vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fortawesome-fontawesome-free-6.6.0/css/all.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/dist/umd/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/dist/js/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/dist/css/bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table-1.19.1/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table-1.19.1/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0/dist/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0/dist/css/bootstrap-datepicker.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "forevolve-bootstrap-dark-1.1.0/dist/css/bootstrap-prefers-dark.css",
}

# GX's logo (with the context's id appended, a tracking link) comes from its S3 bucket; GX copies
# logo-long.png into the site's static/images, and it stands in for the dark-mode logo GX does not ship.
GX_IMAGES = re.compile(r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([\w.-]+)(?:\?[^\"')\s]*)?")
LOCAL_IMAGES = {"logo-long.png": "logo-long.png", "full_logo_dark.png": "logo-long.png"}

# Subresource integrity and CORS mode: a browser refuses both for a page opened as a file.
INTEGRITY = re.compile(r'\s+integrity="[^"]*"|\s+crossorigin="[^"]*"')
# What a page would still load from elsewhere (links to read, <a href>, are not loads).
REMOTE_LOAD = re.compile(r"""<script[^>]*\ssrc=["']?(https?://[^"'\s>]+)|<link[^>]*\shref=["']?(https?://[^"'\s>]+)|"""
                         r"""<img[^>]*\ssrc=["']?(https?://[^"'\s>]+)|url\(\s*["']?(https?://[^"')\s]+)""")


class RemoteAssetError(RuntimeError):
    """A Data Docs page loads something make_offline has no local copy of (a GX upgrade changed its templates)."""


def offline_html(html: str, page: Path, site_dir: Path) -> str:
    """One page's HTML with every CDN and S3 load pointing at the site's own copies."""

    def local(target: Path) -> str:
        return Path(os.path.relpath(site_dir / target, page.parent)).as_posix()

    # Longest URL first: .../filter-control.css must not be replaced inside .../filter-control.min.css.
    for url in sorted(ASSETS, key=len, reverse=True):
        html = re.sub(re.escape(url) + r'(?=["\'])', local(VENDOR_DIR / ASSETS[url]), html)
    html = GX_IMAGES.sub(lambda m: local(Path("static", "images", LOCAL_IMAGES.get(m[1], m[1]))), html)
    html = INTEGRITY.sub("", html)
    remote = sorted({u for m in REMOTE_LOAD.finditer(html) for u in m.groups() if u})
    if remote:
        raise RemoteAssetError(f"{page}: still loads {', '.join(remote)}; add a local copy to reportpipe.validation.data_docs.ASSETS")
    return html


def make_offline(site_dir: Path) -> None:
    """Copy the vendored assets into the Data Docs site and point its pages at them (idempotent)."""
    site_dir = Path(site_dir)
    shutil.copytree(ASSETS_DIR, site_dir / VENDOR_DIR, dirs_exist_ok=True)
    for page in site_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        rewritten = offline_html(html, page, site_dir)
        if rewritten != html:
            # A reader never sees a half-rewritten page: write beside it, then rename over it.
            partial = page.with_name(page.name + ".partial")
            partial.write_text(rewritten, encoding="utf-8")
            partial.replace(page)


def data_docs_dir(warehouse_dir: Path) -> Path:
    return Path(warehouse_dir) / "data_docs"


def validation_pages(site: Path) -> dict[str, str]:
    """Data Docs page of each validated file, by the file's sha256[:16] (GX's batch identifier).

    The site's pages are `validations/<suite>/<run name>/<run time>/<batch identifier>.html`;
    a file validated again keeps its newest page.
    """
    pages = sorted((p.parent.name, p) for p in (site / "validations").glob("*/*/*/*.html"))
    return {p.stem: p.relative_to(site).as_posix() for _, p in pages}


def build_data_docs(warehouse_dir: Path, keys: list | None = None) -> Path:
    """Render results into the Data Docs site (`keys`, else every stored result without a page); its index.

    Rendering only what has no page yet keeps the cost per refresh flat as results accumulate.
    """
    site = data_docs_dir(warehouse_dir)
    gx_context = context(warehouse_dir)
    if keys is None:
        stored = gx_context.validation_results_store.list_keys()
        keys = [k for k in stored if not site.joinpath("validations", *k.to_tuple()).with_suffix(".html").exists()]
    if keys:
        gx_context.build_data_docs(resource_identifiers=keys)
        make_offline(site)  # GX rewrites the index on every build, with its CDN links
    return site / "index.html"
