"""Keep the README honest: every config key and CLI command is documented."""

from pathlib import Path

import pytest

from assist.cli import cli
from assist.config import CONNECTOR_SETTINGS, SETTINGS

README = (Path(__file__).parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", [s[0] for s in SETTINGS + CONNECTOR_SETTINGS])
def test_every_setting_is_in_the_readme(name):
    assert f"`{name}`" in README


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        path = (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, path)
        else:
            yield " ".join(path)


@pytest.mark.parametrize("command", list(_commands(cli)))
def test_every_command_is_in_the_readme(command):
    assert f"assist {command}" in README


def test_readme_shows_the_two_commands_and_ci_runs_the_test_one():
    assert "\nmake run\n" in README and "\nmake test\n" in README
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert "make test" in ci


def test_every_connector_has_a_setup_doc_and_a_contract_test():
    from connectors.registry import BUILTIN_MODULES

    root = Path(__file__).parent.parent
    for name in BUILTIN_MODULES:
        if name == "local":
            continue
        assert (root / "docs" / "connectors" / f"{name}.md").exists(), name
        assert (root / "tests" / f"test_connector_{name}.py").exists(), name
        assert f"docs/connectors/{name}.md" in README
