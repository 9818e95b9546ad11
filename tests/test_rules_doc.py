"""docs/rules.md is generated from the catalogue: the committed page must be up to date."""

from __future__ import annotations

from pathlib import Path

from reporting.rules_doc import rules_markdown
from schemas.catalogue import CATALOGUE

DOC = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def test_committed_rules_doc_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == rules_markdown(), \
        "docs/rules.md is stale: run `glotip docs`"


def test_rules_doc_lists_every_rule_with_its_hint():
    text = rules_markdown()
    for code, rule in CATALOGUE.items():
        assert f"## {code}\n" in text
        assert rule.hint in text
