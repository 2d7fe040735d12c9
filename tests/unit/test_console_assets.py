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
    return set(re.findall(r'from "\./([^"]+)"', text)), set(
        re.findall(r'import\("\./([^"]+)"\)', text)
    )


def reached(bundle: Bundle, start: set[str]) -> set[str]:
    """The modules `start` loads at once: themselves and what they import statically."""
    found, pending = set(), list(start)
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(imported(bundle.files[name])[0])
    return found


def first_load(bundle: Bundle) -> set[str]:
    return reached(bundle, {"app.js"})


def loaded_later(bundle: Bundle) -> set[str]:
    """What the first load's modules import on first use (the service desk), and theirs."""
    now = first_load(bundle)
    later = {name for module in now for name in imported(bundle.files[module])[1]}
    return reached(bundle, later) - now


def test_the_page_preloads_every_module_of_the_first_load_and_names_only_files_of_its_release() -> (
    None
):
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
    preloaded = set(re.findall(r'rel="modulepreload" href="[^"]+/([^"/]+)"', page))
    assert preloaded == first_load(bundle), "a module not preloaded is fetched a round trip late"
    later = loaded_later(bundle)
    assert {"desk.js", "desk-view.js", "desk-words.js"} <= later, "the desk is loaded on use"
    assert first_load(bundle) | later == modules, "every module is loaded one way or the other"


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
    """The scripts and styles of the first load, uncompressed (the benchmark measures the
    wire): the station's, and an agent's with the service desk loaded on top."""
    bundle = console_bundle()
    styles = {name for name in bundle.files if name.endswith(".css")}
    station = code_bytes(bundle, first_load(bundle) | styles)
    desk = station + code_bytes(bundle, loaded_later(bundle))
    assert station < 100_000, station
    assert desk < 100_000, desk
