"""The layout is the architecture: layers import downward only, no module circles, the CLI is a skin."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "martctl"

# Each layer may import itself and the layers listed after it (lower ones), never one above.
LAYERS = ["cli", "api", "docs", "lineage", "quality", "engine", "compiler", "project", "base"]
BASE = {"martctl", "martctl.errors", "martctl.exitcodes"}
CLI_MAY_IMPORT = ("martctl", "martctl.api", "martctl.errors", "martctl.exitcodes", "martctl.cli")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every martctl module `path` imports, at the top or inside a function (lazy imports count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("martctl"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("martctl"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)  # `from martctl.x import module`
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in modules}


def layer(module: str) -> str:
    if module in BASE:
        return "base"
    if module == "martctl.__main__":
        return "cli"
    return module.split(".")[1]


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) - {module_name(p)} for p in PACKAGE.rglob("*.py")}


def test_no_relative_imports_so_the_checks_see_everything():
    relative = [str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*.py")
                if any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(ast.parse(p.read_text())))]
    assert relative == []


def test_no_import_circles_between_modules():
    edges = {m: {d for d in deps if d not in ("martctl",) and not m.startswith(d + ".")} for m, deps in graph().items()}
    try:
        TopologicalSorter(edges).prepare()
    except CycleError as exc:
        raise AssertionError(f"import circle: {' -> '.join(exc.args[1])}") from None


def test_layers_import_downward_only():
    rank = {name: i for i, name in enumerate(LAYERS)}
    wrong = []
    for module, deps in graph().items():
        if module in BASE:
            continue
        for dep in deps:
            if dep == "martctl" or layer(dep) == layer(module):
                continue
            if rank[layer(dep)] < rank[layer(module)]:
                wrong.append(f"{module} imports {dep} (a layer above it)")
    assert wrong == []


def test_the_cli_imports_only_the_public_api_and_its_own_rendering():
    wrong = []
    for path in (PACKAGE / "cli").rglob("*.py"):
        for dep in imports_of(path):
            if not any(dep == allowed or dep.startswith(allowed + ".") for allowed in CLI_MAY_IMPORT) \
                    or dep.startswith("martctl.api."):
                wrong.append(f"{module_name(path)} imports {dep}")
    assert wrong == []


def test_the_core_never_imports_typer_or_rich():
    for path in PACKAGE.rglob("*.py"):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        names = {a.name.split(".")[0] for n in ast.walk(ast.parse(path.read_text()))
                 if isinstance(n, (ast.Import, ast.ImportFrom)) for a in getattr(n, "names", [])}
        mods = {n.module.split(".")[0] for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom) and n.module}
        assert not ({"typer", "rich"} & (names | mods)), path


def test_help_is_fast_because_it_imports_no_engine():
    code = ("import sys, martctl.cli.app; "
            "print(sorted(m for m in ('sqlglot', 'duckdb', 'psycopg', 'yaml', 'martctl.api.workspace') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# import name -> the distribution pyproject.toml declares it under; optional ones only imported lazily
REQUIRED = {"typer": "typer", "sqlglot": "sqlglot", "duckdb": "duckdb", "rich": "rich", "yaml": "pyyaml"}
OPTIONAL = {"psycopg": "psycopg", "pyspark": "pyspark", "pyarrow": "pyspark", "pandas": "pandas",
            "sqlglotc": "sqlglotc"}


def third_party_imports(path: Path) -> tuple[set[str], set[str]]:
    """(top-level packages imported when the module loads, those imported only inside a function or
    under `if TYPE_CHECKING`), neither the standard library nor martctl."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def names(nodes) -> set[str]:
        found = set()
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
        return {n for n in found if n not in sys.stdlib_module_names and n not in ("martctl", "__future__")}

    eager = names(tree.body) | names(n for t in tree.body if isinstance(t, ast.Try) for n in t.body)
    return eager, names(ast.walk(tree)) - eager


def test_every_import_is_a_declared_dependency():
    """A plain `pip install .` must run every command: a module imported at load time is a required
    dependency (typing_extensions once came only through another package's dependencies and broke
    the README's first command), one imported lazily is at least an optional one."""
    declared = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    for distribution in {**REQUIRED, **OPTIONAL}.values():
        assert f'"{distribution}' in declared, f"{distribution} is not in pyproject.toml"
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        eager, lazy = third_party_imports(path)
        problems += [f"{path.relative_to(PACKAGE.parent)}: imports {n} at load time" for n in sorted(eager - set(REQUIRED))]
        problems += [f"{path.relative_to(PACKAGE.parent)}: imports {n}, declared nowhere"
                     for n in sorted(lazy - set(REQUIRED) - set(OPTIONAL))]
    assert not problems, "\n".join(problems)
