"""``GET /notebooks/parameters`` on a parameters cell with a bad line: the other parameters
and one message for that line, not a 400 for the whole form (issue 11, item 6)."""

from __future__ import annotations

from typing import Any

from .test_rest import api, jp_server_config, mlops_data  # noqa: F401 (fixtures)


async def test_parameters_with_one_bad_line_and_type_comments(api: Any) -> None:  # noqa: F811
    bad = (
        await api(
            "GET",
            "/notebooks/parameters",
            params={"path": "notebooks/bad_param_line.ipynb"},
            spec_path="/notebooks/parameters",
        )
    ).data
    assert [p["name"] for p in bad["parameters"]] == ["alpha", "gamma"]
    assert bad["parameters"][0]["help"] == "smoothing"
    (problem,) = bad["problems"]
    assert "line 2" in problem and "beta = = 2" in problem
    typed = (
        await api(
            "GET",
            "/notebooks/parameters",
            params={"path": "notebooks/typed_comments.ipynb"},
            spec_path="/notebooks/parameters",
        )
    ).data
    by_name = {p["name"]: p for p in typed["parameters"]}
    assert list(by_name) == ["steps", "label", "flag", "start"]
    assert (by_name["steps"]["type_name"], by_name["steps"]["help"]) == (
        "int",
        "the number of things",
    )
    assert [p.split(":")[0] for p in typed["problems"]] == ["line 5"]  # d = steps == 3
