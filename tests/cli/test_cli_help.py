"""Every ``charter`` command's ``--help`` reads as prose: docstrings are rendered as Markdown
(their lines joined into paragraphs, ``code`` shown as code), never with the source's line
breaks or reStructuredText's double backticks."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from charter.cli import app


def _commands(command: Any, path: list[str]) -> list[list[str]]:
    found = [path]
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        found += _commands(sub, [*path, name])
    return found


def test_every_commands_help_is_rendered_prose() -> None:
    runner = CliRunner()
    paths = _commands(typer.main.get_command(app), [])
    assert len(paths) > 50  # the whole tree, groups and commands
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], terminal_width=100)
        assert result.exit_code == 0, (path, result.output)
        assert "``" not in result.output, (path, result.output)


def test_a_wrapped_docstring_is_one_paragraph() -> None:
    # `charter cloud purge`'s docstring breaks its source line after "the sealed"; rendered
    # as one paragraph, a wide terminal shows the words on one line
    result = CliRunner().invoke(app, ["cloud", "--help"], terminal_width=160)
    assert any("the sealed copies behind" in line for line in result.output.splitlines())
