"""Issue 12 in Chromium: select with a lasso and download what was selected; share a view by URL."""

import csv
import io
import re
from pathlib import Path

import numpy as np
from driver import WAIT_MS, goto, isolated, map_to_page, no_exception, pick_model, settle, shot, wait_map
from playwright.sync_api import expect
from test_browser_choices import native_codes


def ring(center, radius, n=24):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.c_[center[0] + radius * np.cos(t), center[1] + radius * np.sin(t)]


def test_a_lasso_selection_downloads_as_csv_with_exactly_those_rows(new_page):
    xy, data = native_codes("vae-z2")
    pg = new_page()
    frame = wait_map(pg)
    frame.get_by_role("button", name="Lasso").click()
    path = map_to_page(pg, frame, ring(np.median(xy, 0), 0.6))
    pg.mouse.move(float(path[0, 0]), float(path[0, 1]))
    pg.mouse.down()
    for x, y in [*path[1:], path[0]]:
        pg.mouse.move(float(x), float(y), steps=4)
    pg.mouse.up()
    selected = sorted(frame.evaluate("() => Array.from(livemap.widget.selected).flatMap((s, i) => s ? [i] : [])"))
    assert len(selected) > 20
    button = pg.get_by_role("button", name=f"CSV · selection ({len(selected):,})")
    button.wait_for(timeout=WAIT_MS)  # the page shows the selection the user drew
    expect(pg.get_by_text(f"{len(selected):,} digits selected", exact=False)).to_be_visible()
    settle(pg)
    with pg.expect_download(timeout=WAIT_MS) as info:
        button.click()
    rows = list(csv.DictReader(io.StringIO(open(info.value.path()).read())))
    assert [int(r["index"]) for r in rows] == selected
    for r in rows[:50]:
        i = int(r["index"])
        assert r["class"] == data.classes[int(data.labels[i])]
        assert abs(float(r["mu_1"]) - xy[i, 0]) < 1e-4 and abs(float(r["map_z1"]) - xy[i, 0]) < 1e-4
    no_exception(pg)
    shot(pg, "analysis-lasso-selection")


def test_a_shared_link_reproduces_the_model_projection_and_selection(new_page):
    pg = new_page()
    pick_model(pg, "vae-z16")
    pg.get_by_role("radio", name="UMAP").click()
    expect(pg.get_by_role("slider", name="n_neighbors")).to_be_visible(timeout=WAIT_MS)
    settle(pg)
    frame = wait_map(pg)
    xy = np.array(frame.evaluate("() => Array.from(livemap.widget.xy)"), np.float64).reshape(-1, 2)
    px = map_to_page(pg, frame, xy)
    i = isolated(px)
    pg.mouse.click(float(px[i, 0]), float(px[i, 1]))
    caption = pg.get_by_text(re.compile(rf"^#{i} · class \w+$"))
    caption.wait_for(timeout=WAIT_MS)
    pg.wait_for_function(f"() => location.search.includes('sel={i}')", timeout=WAIT_MS)
    url = pg.url
    assert "proj=umap" in url and "model=" in url

    other = new_page(url.split("/", 3)[3])  # a new browser context: a new user with only the link
    other.get_by_text("Showing vae-z16", exact=False).wait_for(timeout=WAIT_MS)
    expect(other.get_by_role("radio", name="UMAP")).to_be_checked(timeout=WAIT_MS)
    other.get_by_text(re.compile(rf"^#{i} · class \w+$")).wait_for(timeout=WAIT_MS)
    frame = wait_map(other)
    assert frame.evaluate("(i) => [livemap.widget.selCount, livemap.widget.selected[i]]", i) == [1, 1]
    no_exception(other)
    shot(other, "analysis-shared-link")


def test_a_link_to_weights_that_are_not_here_falls_back_with_a_note(new_page):
    pg = new_page("?model=0123456789ab&proj=pca")
    pg.get_by_text("no model here has these weights", exact=False).wait_for(timeout=WAIT_MS)
    pg.get_by_text("Showing vae-z2", exact=False).wait_for(timeout=WAIT_MS)
    no_exception(pg)


def test_the_training_page_keeps_no_map_keys_in_the_url(new_page):
    pg = new_page("?proj=umap&sel=1-3")
    goto(pg, "Train")
    gone = "() => !location.search.includes('sel=') && !location.search.includes('proj=')"
    pg.wait_for_function(gone, timeout=WAIT_MS)


CLICK_SWEEP_POINT = """([z, beta]) => {
  const gd = document.querySelector('.js-plotly-plot'), box = gd.getBoundingClientRect();
  const k = gd._fullData.findIndex(t => t.name === `z = ${z}`), tr = gd._fullData[k];
  const i = tr.text.indexOf(`β=${beta}`);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;  // c2p: data to pixels, log axis too
  return [box.left + xa._offset + xa.c2p(tr.x[i]), box.top + ya._offset + ya.c2p(tr.y[i])];
}"""


def test_clicking_a_sweep_point_opens_that_model_on_the_latent_map(new_page):
    from driver import plot_ready

    pg = new_page()
    for z, beta, stem in ((2, 8, "vae-z2-b8-s0"), (16, 1, "vae-z16"), (16, 0, "vae-z16-b0-s0")):
        goto(pg, "β sweep")
        plot_ready(pg)
        x, y = pg.evaluate(CLICK_SWEEP_POINT, [z, beta])
        pg.mouse.click(x, y)
        pg.get_by_role("heading", name="Latent map").wait_for(timeout=WAIT_MS)
        pg.get_by_text(f"Showing {stem}:", exact=False).wait_for(timeout=WAIT_MS)
        pg.get_by_text(f"under {stem}.", exact=False).wait_for(timeout=WAIT_MS)
        settle(pg)
        no_exception(pg)
    shot(pg, "analysis-sweep-opened")


def test_the_url_follows_every_choice_on_a_page_that_stops_early(new_page):
    """The Latent map stops early when nothing is selected; the URL must still follow each choice."""
    from driver import ROOT

    from vae_core.io.projection_cache import file_digest

    pg = new_page()
    pg.get_by_role("radio", name="PCA").click()
    pg.wait_for_function("() => location.search.includes('proj=pca')", timeout=WAIT_MS)
    pick_model(pg, "vae-z16")
    digest = file_digest(ROOT / "checkpoints" / "vae-z16.safetensors")[:12]
    pg.wait_for_function(f"() => location.search.includes('model={digest}')", timeout=WAIT_MS)
    pg.get_by_role("radio", name="UMAP").click()
    pg.wait_for_function("() => location.search.includes('proj=umap')", timeout=WAIT_MS)
    other = new_page(pg.url.split("/", 3)[3])
    other.get_by_text("Showing vae-z16", exact=False).wait_for(timeout=WAIT_MS)
    expect(other.get_by_role("radio", name="UMAP")).to_be_checked(timeout=WAIT_MS)
    no_exception(other)


def test_no_page_calls_st_stop_directly():
    """st.stop() drops every message sent after it, the URL's included: pages call url.stop()."""
    from driver import ROOT

    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for folder in ("views", "ui")
        for p in sorted((ROOT / folder).rglob("*.py"))
        if p.relative_to(ROOT) != Path("ui/frame/url.py")
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if "st.stop()" in line and not line.lstrip().startswith("#")
    ]
    assert not offenders, offenders
