"""What tools/list costs a model's context stays within its budget: the benchmark reports it, this test holds it.

Counting tokens is deterministic, unlike a timing, so the budget is a test as well as a benchmark row."""

from __future__ import annotations

import pytest
from listing_tokens import tokens_of

from ayrshare_mcp.settings import TOOLSETS


@pytest.mark.parametrize("selection", [*TOOLSETS, "all"])
def test_each_selection_of_toolsets_costs_a_model_no_more_tokens_than_its_budget(selection: str) -> None:
    counted = tokens_of(selection)

    assert counted.tokens <= counted.budget, (
        f"--toolsets {selection} costs {counted.tokens:,} tokens for {counted.tools} tools, over its budget of "
        f"{counted.budget:,}: trim what a model does not need to call the tools right (see docs/development.md)."
    )
