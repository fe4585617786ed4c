"""The Data Docs site works offline (reportpipe.validation.data_docs.make_offline).

One tiny site is built once: GX's own renderer, the project's GX configuration with its
stores in a temporary folder, a three-row frame validated against a two-expectation suite.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import shutil
from pathlib import Path

import pytest
import yaml

from reportpipe.settings import PROJECT_DIR
from reportpipe.validation import data_docs
from tests.browser import dump_dom

GX_TEMPLATES = Path(__import__("great_expectations").__file__).parent / "render" / "view" / "templates"
REMOTE_IN_TEMPLATE = re.compile(r"""<(?:script|link)[^>]*\s(?:src|href)="(https://[^"]+)"([^>]*)>""")


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> dict[str, Path]:
    """The same Data Docs site as GX builds it and after make_offline."""
    import great_expectations as gx
    import pandas as pd
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import DataContextConfig
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    root = tmp_path_factory.mktemp("gx")
    config = yaml.safe_load((PROJECT_DIR / "expectations" / "great_expectations.yml").read_text(encoding="utf-8"))
    for entry in [*config["stores"].values(), *config["data_docs_sites"].values()]:
        if "base_directory" in entry["store_backend"]:
            entry["store_backend"]["root_directory"] = str(root)
    context = gx.get_context(project_config=DataContextConfig(**config))
    suite = context.suites.add(gx.ExpectationSuite(name="tiny", expectations=[
        gx.expectations.ExpectColumnValuesToNotBeNull(column="amount"),
        gx.expectations.ExpectColumnValuesToBeBetween(column="amount", min_value=0, max_value=2),  # 3 breaks it
    ]))
    result = context.data_sources.pandas_default.read_dataframe(pd.DataFrame({"amount": [1, 2, 3]})).validate(suite)
    run_id = RunIdentifier(run_name="tiny run", run_time=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    result.meta["run_id"] = run_id
    key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name="tiny"), run_id, "abc")
    context.validation_results_store.set(key, result)
    context.build_data_docs()
    built = root / config["data_docs_sites"]["local_site"]["store_backend"]["base_directory"]
    offline = tmp_path_factory.mktemp("offline") / "site"
    shutil.copytree(built, offline)
    data_docs.make_offline(offline)
    page = next(offline.glob("validations/tiny/**/abc.html"))
    return {"built": built, "offline": offline, "validation_page": page}


def test_every_cdn_file_of_gx_templates_is_vendored_byte_for_byte_with_its_licence():
    found = {m[1]: m[2] for t in GX_TEMPLATES.glob("*.j2") for m in REMOTE_IN_TEMPLATE.finditer(t.read_text(encoding="utf-8"))}
    assert set(found) == set(data_docs.ASSETS)  # a GX upgrade that changes a URL fails here
    for url, attributes in found.items():
        local = data_docs.ASSETS_DIR / data_docs.ASSETS[url]
        assert local.is_file(), url
        # Where GX pins the bytes (subresource integrity), the vendored file is exactly the CDN's.
        if integrity := re.search(r'integrity="sha384-([^"]+)"', attributes):
            assert base64.b64encode(hashlib.sha384(local.read_bytes()).digest()).decode() == integrity[1], url
    for package in {Path(p).parts[0] for p in data_docs.ASSETS.values()}:
        assert list((data_docs.ASSETS_DIR / package).glob("LICENSE*")), f"{package} has no licence file"
    # Fonts and images the vendored stylesheets load are vendored too.
    for css in data_docs.ASSETS_DIR.rglob("*.css"):
        for target in re.findall(r"url\(\s*[\"']?([^\"')]+)", css.read_text(encoding="utf-8")):
            if not target.startswith("data:"):
                assert (css.parent / target.split("?")[0].split("#")[0]).is_file(), (css.name, target)


def test_make_offline_leaves_no_remote_load_and_a_second_run_changes_nothing(sites):
    pages = sorted(sites["offline"].rglob("*.html"))
    assert len(pages) == 3  # index, suite, validation
    built_text = (sites["built"] / "index.html").read_text(encoding="utf-8")
    assert data_docs.REMOTE_LOAD.search(built_text)  # GX's own pages do load from the internet
    before = {p: p.read_bytes() for p in pages}
    for page in pages:
        assert not data_docs.REMOTE_LOAD.search(page.read_text(encoding="utf-8")), page
        # Every rewritten reference resolves (GX's own favicon link on validation pages is one level short).
        for target in re.findall(r'(?:src|href)="((?:\.\./)*static/(?:vendor/|images/logo)[^"]+)"', page.read_text(encoding="utf-8")):
            assert (page.parent / target).resolve().is_file(), (page, target)
    data_docs.make_offline(sites["offline"])
    assert {p: p.read_bytes() for p in pages} == before


def test_a_page_loading_an_asset_without_a_local_copy_is_refused(tmp_path):
    page = tmp_path / "index.html"
    with pytest.raises(data_docs.RemoteAssetError, match="https://cdn.example/new.js"):
        data_docs.offline_html('<script src="https://cdn.example/new.js"></script>', page, tmp_path)


def index_rows(dom: str) -> list[str]:
    """The validation pages the index's results table links to: rows bootstrap-table draws from JSON."""
    return re.findall(r'<tr class="clickable-row" data-href="(validations/[^"]+)"', dom)


def test_index_and_validation_page_render_in_chromium_with_the_network_off(sites):
    # As GX builds it, the index's table stays empty without the internet: this also proves the network is off.
    assert index_rows(dump_dom((sites["built"] / "index.html").as_uri(), offline=True)) == []

    dom = dump_dom((sites["offline"] / "index.html").as_uri(), offline=True)
    (link,) = index_rows(dom)
    assert (sites["offline"] / link.replace("%20", " ")).resolve() == sites["validation_page"].resolve()

    # The validation page's table of expectations, as bootstrap-table redraws it (rows numbered by data-index).
    dom = dump_dom(sites["validation_page"].as_uri(), offline=True)
    rows = dict(re.findall(r'<tr data-index="(\d+)">(.*?)</tr>', dom, flags=re.S))
    assert "values must never be null" in rows["0"] and "fa-check-circle" in rows["0"]
    assert "values must be greater than or equal to" in rows["1"] and "fa-times" in rows["1"]  # 3 is out of 0–2
