"""The console's files: its operations are the client file's, its pages name only files it
ships, and each release has its own digest."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import ExecutableDefinitionNode, parse, print_ast

from api.assets import Bundle
from api.console.routes import STATIC, console_bundle, page_html
from api.graphiql import STATIC as GRAPHIQL_STATIC
from tests.support.graphql import CLIENTS

CONSOLE_OPERATIONS = CLIENTS / "console.graphql"


def test_the_console_sends_the_client_files_operations_byte_for_byte() -> None:
    assert (STATIC / "operations.graphql").read_bytes() == CONSOLE_OPERATIONS.read_bytes()


def split_as_the_console_does(text: str) -> dict[str, str]:
    """graphql.js's splitDocument: a definition from its keyword's line to the first lone }."""
    found: dict[str, str] = {}
    name, lines = None, []
    for line in text.split("\n"):
        start = re.match(r"^(query|mutation|subscription|fragment) (\w+)", line)
        if start and name is None:
            name, lines = start.group(2), []
        if name is not None:
            lines.append(line)
        if name is not None and line == "}":
            found[name] = "\n".join(lines)
            name = None
    return found


def test_the_consoles_way_of_splitting_its_operations_finds_each_definition_whole() -> None:
    text = CONSOLE_OPERATIONS.read_text()
    parsed = {
        d.name.value: print_ast(d)
        for d in parse(text).definitions
        if isinstance(d, ExecutableDefinitionNode) and d.name
    }
    split = split_as_the_console_does(text)
    assert {name: print_ast(parse(body).definitions[0]) for name, body in split.items()} == parsed


def imported(source: bytes) -> tuple[set[str], set[str]]:
    """The console modules a module imports: statically, and with import() (on first use)."""
    text = source.decode()
    static = set(re.findall(r'from "\./([^"]+)"', text))
    return static, set(re.findall(r'import\("\./([^"]+)"\)', text))


def reached(bundle: Bundle, start: set[str]) -> set[str]:
    """The modules `start` loads at once: themselves and what they import statically."""
    found: set[str] = set()
    pending = list(start)
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(imported(bundle.files[name])[0])
    return found


def preloaded(bundle: Bundle) -> set[str]:
    page = page_html(bundle).decode()
    return set(re.findall(r'rel="modulepreload" href="[^"]+/([^"/]+)"', page))


def workspaces(bundle: Bundle) -> dict[str, list[str]]:
    """Each workspace's module (modules.js's import()) and the files it preloads for it."""
    text = bundle.files["modules.js"].decode()
    found = re.findall(r'later\(\[([^\]]*)\], \(\) =>\s*import\("\./([^"]+)"\)', text)
    return {entry: re.findall(r'"([^"]+)"', files) for files, entry in found}


def test_the_page_preloads_the_shell_and_each_workspace_its_own_files() -> None:
    bundle = console_bundle()
    page = page_html(bundle).decode()
    named = [u for u in re.findall(r'(?:href|src)="([^"]+)"', page) if not u.startswith("#")]
    base = f"/console/assets/{bundle.digest}/"
    assert named
    assert all(url.startswith(base) for url in named), named
    assert {url.removeprefix(base) for url in named} <= set(bundle.files)
    modules = {name for name in bundle.files if name.endswith(".js")}
    for name in modules:
        static, dynamic = imported(bundle.files[name])
        assert static | dynamic <= modules, (name, static, dynamic)
    shell, first = reached(bundle, {"app.js"}), preloaded(bundle)
    spaces = workspaces(bundle)
    assert set(spaces) == {"station.js", "desk.js"}
    assert set(spaces) == imported(bundle.files["modules.js"])[1]
    needs = {}
    for entry, files in spaces.items():
        needs[entry] = reached(bundle, {entry})
        # a module neither preloaded by the page nor by its workspace is fetched a round
        # trip late; one preloaded twice, or that it does not use, is fetched for nothing
        assert needs[entry] <= first | set(files), (entry, needs[entry] - first - set(files))
        assert set(files) <= needs[entry] - first, (entry, files)
    common = set.intersection(*needs.values())
    assert first == shell | common, "the page preloads the shell and what every workspace uses"
    assert "desk.js" not in needs["station.js"], "a warehouse tab never fetches the desk"
    assert "station.js" not in needs["desk.js"], "nor an agent's the station"
    assert shell | set().union(*needs.values()) == modules, "every module is used"


def test_graphiqls_page_names_only_files_it_ships() -> None:
    page = (GRAPHIQL_STATIC / "index.html").read_text()
    named = re.findall(r'(?:href|src)="([^"]+)"', page)
    assert named
    assert all(url.startswith("{{ASSETS}}/") for url in named), named
    shipped = {path.name for path in GRAPHIQL_STATIC.iterdir()}
    assert {url.removeprefix("{{ASSETS}}/") for url in named} <= shipped
    assert "unpkg" not in page
    assert "cdn" not in page.lower()


def test_a_changed_file_changes_the_release_digest(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("export const a = 1;\n")
    before = Bundle.of(tmp_path)
    (tmp_path / "a.js").write_text("export const a = 2;\n")
    after = Bundle.of(tmp_path)
    assert before.digest != after.digest
    assert before.etags["a.js"] != after.etags["a.js"]


def code_bytes(bundle: Bundle, names: set[str]) -> int:
    return sum(len(bundle.files[name]) for name in names)


def test_the_consoles_first_load_stays_small() -> None:
    """The scripts and styles of each workspace's first load, uncompressed (the benchmark
    measures the wire): the page's and the workspace's own."""
    bundle = console_bundle()
    styles = {name for name in bundle.files if name.endswith(".css")}
    page = reached(bundle, {"app.js"}) | preloaded(bundle) | styles
    for entry in workspaces(bundle):
        loaded = code_bytes(bundle, page | reached(bundle, {entry}))
        assert loaded < 100_000, (entry, loaded)
