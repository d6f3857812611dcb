"""The selection grammar: examples on the demo, set-algebra properties on random projects."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from martctl.compiler.graph import Graph
from martctl.compiler.resolve import build_graph
from martctl.compiler.select import select
from martctl.errors import ProjectError
from martctl.project.loader import load_project
from martctl.project.model import Mart, Project
from tests.conftest import REPO


@pytest.fixture(scope="module")
def demo():
    project = load_project(REPO)
    return project, build_graph(project).graph


def pick(demo, *selectors, exclude=None):
    keys, warnings = select(demo[0], demo[1], list(selectors), exclude)
    return keys, warnings


@pytest.mark.parametrize(
    "selectors, expected",
    [
        (["customer_ltv"], {"data_analyst.customer_ltv"}),
        (["data_analyst.customer_ltv"], {"data_analyst.customer_ltv"}),
        (["+customer_ltv"], {"data_analyst.customer_ltv", "data_analyst.customer_orders"}),
        (["customer_orders+"], {"data_analyst.customer_orders", "data_analyst.customer_ltv", "data_analyst.top_customers"}),
        (["customer_orders+1"], {"data_analyst.customer_orders", "data_analyst.customer_ltv"}),
        (["1+top_customers"], {"data_analyst.top_customers", "data_analyst.customer_ltv"}),
        (["2+top_customers"], {"data_analyst.top_customers", "data_analyst.customer_ltv", "data_analyst.customer_orders"}),
        (["+campaign_roas+"], {"marketing.campaign_roas", "marketing.campaign_performance"}),
        (["path:marts/marketing/weekly_acquisition.sql"], {"marketing.weekly_acquisition"}),
        (["marketing.campaign_*"], {"marketing.campaign_performance", "marketing.campaign_roas"}),
        (["tag:weekly"], {"marketing.weekly_acquisition"}),
        (["materialized:incremental"], {"data_analyst.order_facts"}),
        (["customer_ltv top_customers"], {"data_analyst.customer_ltv", "data_analyst.top_customers"}),
        (["customer_ltv", "top_customers"], {"data_analyst.customer_ltv", "data_analyst.top_customers"}),
    ],
)
def test_examples_on_the_demo(demo, selectors, expected):
    keys, warnings = pick(demo, *selectors)
    assert set(keys) == expected and warnings == []


def test_intersection_on_the_demo(demo):
    project, graph = demo
    lineage = graph.upstream("data_analyst.top_customers") | {"data_analyst.top_customers"}
    expected = {k for k in lineage if "daily" in project.marts[k].tags}
    assert expected
    assert set(pick(demo, "+top_customers,tag:daily")[0]) == expected


def test_area_path_and_exclude(demo):
    project, graph = demo
    marketing = {k for k in project.marts if k.startswith("marketing.")}
    assert set(pick(demo, "area:marketing")[0]) == marketing
    assert set(pick(demo, "path:marts/marketing")[0]) == marketing
    keys, _ = pick(demo, "area:marketing", exclude=["tag:weekly"])
    assert set(keys) == marketing - {"marketing.weekly_acquisition"}
    assert pick(demo)[0] == graph.topological_order()  # nothing selected = everything, in order


def test_matching_nothing_is_an_error_naming_every_such_selector(demo):
    with pytest.raises(ProjectError) as info:
        pick(demo, "custmer_ltv", "tag:daily", exclude=["tag:dayly"])
    found = [(p.message, p.hint) for p in info.value.problems]
    assert found == [("selector 'custmer_ltv' matches no mart", "did you mean 'customer_ltv'?"),
                     ("selector 'tag:dayly' matches no mart", "did you mean 'tag:daily'?")]


def test_an_intersection_with_nothing_in_common_only_warns(demo):
    keys, warnings = pick(demo, "tag:weekly,area:data_analyst", "tag:daily")
    assert keys and warnings == ["selector 'tag:weekly,area:data_analyst' matches no mart: its parts have no mart in common"]


def test_unknown_method_is_an_error(demo):
    with pytest.raises(ProjectError) as info:
        pick(demo, "tga:daily")
    assert "unknown selector method 'tga:'" in str(info.value) and "did you mean 'tag'?" in str(info.value)


# --- properties over random projects -------------------------------------------------------------


@st.composite
def projects(draw):
    n = draw(st.integers(1, 12))
    areas = ("sales", "ops")
    marts, upstream = {}, {}
    for i in range(n):
        area = draw(st.sampled_from(areas))
        name = f"m{i}"
        tags = tuple(draw(st.sets(st.sampled_from(("daily", "hourly", "pii")), max_size=2)))
        marts[f"{area}.{name}"] = Mart(name=name, area=area, sql="select 1", file=Path(f"/p/marts/{area}/{name}.yml"),
                                       tags=tags)
    keys = list(marts)
    for i, key in enumerate(keys):
        upstream[key] = sorted(draw(st.sets(st.sampled_from(keys[:i]), max_size=3))) if i else []
    project = Project(root=Path("/p"), name="p", dialect="duckdb", config_file=Path("/p/config.yaml"), targets={},
                      default_target="local", marts=marts, sources={})
    return project, Graph(upstream)


atoms = st.sampled_from(["m0", "m1", "m2", "m3", "tag:daily", "tag:pii", "area:sales", "ops.*", "*1*"])


@given(projects(), atoms, atoms)
def test_union_intersection_and_exclude_are_set_algebra(demo_like, a, b):
    project, graph = demo_like

    def sel(*s, exclude=None):
        """The selection, or None when a selector in it matches no mart (an error)."""
        try:
            return set(select(project, graph, list(s), exclude)[0])
        except ProjectError as exc:
            assert all("matches no mart" in p.message for p in exc.problems)
            return None

    if sel(a) is None or sel(b) is None:  # any expression holding a selector that matches nothing fails
        assert None is sel(f"{a} {b}") is sel(a, b) is sel(f"{a},{b}") is sel(a, exclude=[b]) is sel(b, exclude=[a])
        return
    assert sel(f"{a} {b}") == sel(a) | sel(b) == sel(a, b)
    assert sel(f"{a},{b}") == sel(a) & sel(b)
    assert sel(a, exclude=[b]) == sel(a) - sel(b)
    assert sel(exclude=[b]) == set(project.marts) - sel(b)


@given(projects(), st.sampled_from(["m0", "m1", "m2", "m3", "m5"]), st.integers(1, 3))
def test_graph_operators(demo_like, name, depth):
    project, graph = demo_like
    matches = {k for k, m in project.marts.items() if m.name == name}

    def sel(text):
        return set(select(project, graph, [text])[0])

    if not matches:
        with pytest.raises(ProjectError, match="matches no mart"):
            sel(f"+{name}")
        return
    assert sel(name) == matches
    assert sel(f"+{name}") == matches | graph.upstream(matches)
    assert sel(f"{name}+") == matches | graph.downstream(matches)
    assert sel(f"{depth}+{name}") == matches | graph.upstream(matches, depth)
    assert sel(f"{name}+{depth}") == matches | graph.downstream(matches, depth)
    assert sel(f"+{name}+") == matches | graph.upstream(matches) | graph.downstream(matches)
    keys = select(project, graph, [f"+{name}+"])[0]
    order = graph.topological_order()
    assert keys == [k for k in order if k in set(keys)]
