"""docs/architecture.md names only files and functions that exist, so a rename that forgets the map fails."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "docs" / "architecture.md"
# `some/path.py` or `some/path.py:Name.attribute`
REFERENCE = re.compile(r"`([\w./-]+/[\w.-]+\.(?:py|lua|template))(?::([\w.]+))?`")


def references() -> list[tuple[str, str | None]]:
    return sorted(set(REFERENCE.findall(MAP.read_text())), key=str)


def defined_names(tree: ast.AST, prefix: str = "") -> set[str]:
    """Every class, function and module-level name of a module, dotted for what classes define."""
    names = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(prefix + node.name)
            if isinstance(node, ast.ClassDef):
                names |= defined_names(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.Assign):
            names |= {prefix + target.id for target in node.targets if isinstance(target, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(prefix + node.target.id)
    return names


def test_the_map_names_files_and_functions():
    assert len(references()) > 40


@pytest.mark.parametrize(("path", "name"), references(), ids=lambda value: value or "")
def test_every_file_and_function_the_map_names_exists(path: str, name: str):
    source = ROOT / path
    assert source.is_file(), f"docs/architecture.md names {path}, which does not exist"
    if name:
        assert name in defined_names(ast.parse(source.read_text())), f"{path} defines no {name}"


def test_the_readme_links_the_map():
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text()
