"""Every command's `--help`, as typer renders it with rich: each option and argument says what
it does and its default (or that it is required). Rich reads `[...]` in a help text as markup
and drops it, so a default written as `[default: …]` in the text would vanish: what is checked
is the rendered screen, not the source."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from cli import app

runner = CliRunner()
COMMANDS = typer.main.get_command(app).commands
WIDE = {"COLUMNS": "1000", "TERMINAL_WIDTH": "1000"}  # one line per option: nothing wraps


def rendered_help(name: str) -> list[str]:
    result = runner.invoke(app, [name, "--help"], env=WIDE, terminal_width=1000)
    assert result.exit_code == 0, result.output
    return [" ".join(line.strip(" │").split()) for line in result.output.splitlines()]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_says_what_it_does_and_its_default(name):
    lines = rendered_help(name)
    for parameter in COMMANDS[name].params:
        if parameter.name == "help":
            continue
        assert parameter.help, f"glotip {name}: {parameter.name} has no help text"
        opening = " ".join(parameter.help.split())[:40]
        [line] = [line for line in lines if opening in line] or [f"{parameter.name}: not shown"]
        assert re.search(r"\bdefault\b|\[required\]", line, re.IGNORECASE), (
            f"glotip {name}: {parameter.name} shows no default: {line}")
        if parameter.default is not None and parameter.show_default and not getattr(parameter, "is_flag", False):
            assert "[default: " in line, line


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_no_text_is_eaten_by_markup(name):
    """A space before a full stop is what is left of a `[...]` that rich took for markup."""
    text = "\n".join(rendered_help(name))
    assert not re.search(r"\s[.,;](\s|$)", text.replace("...", ""), re.MULTILINE), text
    assert COMMANDS[name].help, f"glotip {name} has no description"
