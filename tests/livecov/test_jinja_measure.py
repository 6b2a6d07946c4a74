"""livecov.jinja measuring for real: contexts, every loader, caches and reloads, the core
it needs, reports of templates never rendered or not templates at all, its options."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import coverage
import flask
import jinja2
import pytest
from coverage.exceptions import ConfigError

from livecov.jinja.mapping import build_map
from livecov.jinja.plugin import JinjaPlugin
from livecov.jinja.recorded import decode
from livecov.jinja.repair import repair_data
from tests.livecov.jinja_support import Measure, copy_corpus, environment

PAGE = """\
<h1>{{ title }}</h1>
{% if items %}
  <ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>
{% else %}
  <p>Nothing here.</p>
{% endif %}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_template_lines_carry_the_context_that_rendered_them(tmp_path: Path) -> None:
    templates = copy_corpus(tmp_path)
    with Measure(templates) as measure:
        env = environment(templates)
        measure.switch("test_signed_in")
        env.get_template("child.html").render(user="bob")
        measure.switch("test_anonymous")
        env.get_template("child.html").render(user=None)

    contexts = measure.contexts("base.html")
    assert contexts[7] == {"test_signed_in"}  # Hello, {{ user }}.
    assert contexts[9] == {"test_anonymous"}  # Who are you?
    assert contexts[6] == {"test_signed_in", "test_anonymous"}
    # One piece of output spans lines 2-5: the blank and comment lines between are recorded
    # with it, and reports leave them out (they are no statements).
    assert set(contexts) == {1, 2, 3, 4, 5, 6, 7, 9, 11, 12}
    assert measure.json()["base.html"]["contexts"]["7"] == ["test_signed_in"]


def test_package_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "shop"
    write(package, "__init__.py", "")
    write(package, "templates/page.html", PAGE)
    monkeypatch.syspath_prepend(str(tmp_path))
    with Measure(package) as measure:
        env = environment(loader=jinja2.PackageLoader("shop"))
        env.get_template("page.html").render(title="Shop", items=[])
    assert measure.json()["templates/page.html"]["missing_lines"] == [3]


def test_flask_app_and_blueprint_loaders(tmp_path: Path) -> None:
    site = tmp_path / "site"
    write(site, "templates/page.html", PAGE)
    write(site, "parts/templates/parts/part.html", "<aside>\n{{ name }}\n</aside>\n")
    app = flask.Flask("site", root_path=str(site))
    part = flask.Blueprint(
        "parts", "parts", root_path=str(site / "parts"), template_folder="templates"
    )

    @part.route("/part")
    def show_part() -> str:
        return flask.render_template("parts/part.html", name="part")

    @app.route("/")
    def index() -> str:
        return flask.render_template("page.html", title="Home", items=["a"])

    app.register_blueprint(part)
    with Measure(site) as measure:
        client = app.test_client()
        assert "<li>a</li>" in client.get("/").text
        assert "part" in client.get("/part").text

    report = measure.json()
    assert report["templates/page.html"]["missing_lines"] == [5]
    assert report["parts/templates/parts/part.html"]["executed_lines"] == [1, 2, 3]


def test_auto_reload_measures_the_new_version(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    page = write(templates, "page.html", "<p>one</p>\n")
    with Measure(templates) as measure:
        env = environment(templates, auto_reload=True)
        env.get_template("page.html").render()
        page.write_text("<p>one</p>\n{% if true %}\n<p>two</p>\n{% endif %}\n")
        os.utime(page, (time.time() + 5, time.time() + 5))
        assert "two" in env.get_template("page.html").render()
    assert measure.json()["page.html"]["executed_lines"] == [1, 2, 3]


def test_bytecode_cache(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    write(templates, "page.html", PAGE)
    (tmp_path / "cache").mkdir()
    cache = jinja2.FileSystemBytecodeCache(str(tmp_path / "cache"))
    environment(templates, bytecode_cache=cache).get_template("page.html")
    assert list((tmp_path / "cache").iterdir())

    cached = environment(templates, bytecode_cache=cache)
    compiled = []
    cached.compile = lambda *args, **kwargs: compiled.append(args)  # type: ignore[method-assign]
    with Measure(templates) as measure:
        cached.get_template("page.html").render(title="T", items=["x"])
    assert compiled == []  # the code came from the cache
    assert measure.json()["page.html"]["missing_lines"] == [5]


def test_string_templates_are_skipped_without_error(tmp_path: Path, capfd) -> None:
    templates = tmp_path / "templates"
    write(templates, "page.html", PAGE)
    with Measure(templates) as measure:
        env = environment(templates)
        assert env.from_string("{% if x %}yes{% endif %}").render(x=1) == "yes"
        env.get_template("page.html").render(title="T", items=[])
    assert measure.data().measured_files() == {str(templates / "page.html")}
    assert "livecov" not in capfd.readouterr().err.lower()


def test_a_template_never_rendered_is_reported_at_zero(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    write(templates, "page.html", PAGE)
    write(templates, "never.html", "<p>\n{{ nothing }}\n</p>\n")
    with Measure(templates) as measure:
        environment(templates).get_template("page.html").render(title="T", items=["x"])
    never = measure.json()["never.html"]
    assert never["executed_lines"] == []
    assert never["missing_lines"] == [1, 2, 3]
    assert never["summary"]["percent_covered"] == 0


def test_a_file_that_is_no_template_is_left_out_with_a_warning(tmp_path: Path, capfd) -> None:
    templates = tmp_path / "templates"
    write(templates, "page.html", PAGE)
    write(templates, "static.html", "<script>if (a) { b({{ }}) }</script>\n{% if %}\n")
    with Measure(templates) as measure:
        environment(templates).get_template("page.html").render(title="T", items=["x"])
    assert set(measure.json()) == {"page.html"}
    err = capfd.readouterr().err
    assert "static.html is left out of the report: it is not a Jinja template" in err


def test_template_extensions_option(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    write(templates, "page.jinja", PAGE)
    write(templates, "plain.html", "<p>{{ x }}</p>\n")
    extra = "[livecov.jinja]\ntemplate_extensions = jinja, j2\n"
    with Measure(templates, extra=extra) as measure:
        env = environment(templates)
        env.get_template("page.jinja").render(title="T", items=["x"])
        env.get_template("plain.html").render(x=1)
    assert set(measure.json()) == {"page.jinja"}


CUSTOM_SYNTAX = """\
<h1>[[ title ]]</h1>
<% if items %>
  <p>some</p>
<% endif %>
"""


def test_environment_option_reads_templates_with_their_own_syntax(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "templates"
    write(templates, "page.html", CUSTOM_SYNTAX)
    write(
        tmp_path,
        "custom_env.py",
        "import jinja2\n"
        "def make():\n"
        "    return jinja2.Environment(block_start_string='<%', block_end_string='%>',\n"
        "                              variable_start_string='[[', variable_end_string=']]')\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    extra = "[livecov.jinja]\nenvironment = custom_env:make\n"
    with Measure(templates, extra=extra) as measure:
        env = __import__("custom_env").make()
        env.loader = jinja2.FileSystemLoader(templates)
        env.get_template("page.html").render(title="T", items=[])
    page = measure.json()["page.html"]
    assert page["executed_lines"] == [1, 2]
    assert page["missing_lines"] == [3]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_here:env", "cannot be loaded"),
        ("os:sep", "is a str, not a jinja2.Environment"),
    ],
)
def test_a_bad_environment_option_names_the_fix(tmp_path: Path, spec: str, message: str) -> None:
    templates = tmp_path / "templates"
    write(templates, "page.html", PAGE)
    with Measure(templates, extra=f"[livecov.jinja]\nenvironment = {spec}\n") as measure:
        environment(templates).get_template("page.html").render(title="T", items=[])
    with pytest.raises(ConfigError, match=message):
        measure.json()


def test_a_flask_app_can_be_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    write(tmp_path, "tiny_site.py", "import flask\napp = flask.Flask(__name__)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    env = JinjaPlugin({"environment": "tiny_site:app"}).report_environment()
    assert env is __import__("tiny_site").app.jinja_env


# --- The core: coverage.py runs file tracer plugins only with its C tracer.


def test_the_plugin_picks_the_c_tracer(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    write(templates, "page.html", PAGE)
    with Measure(templates) as measure:
        environment(templates).get_template("page.html").render(title="T", items=[])
    assert measure.lines("page.html")
    assert measure.cov.get_option("run:core") == "ctrace"
    assert dict(measure.cov.sys_info())["core"] == "CTracer"


@pytest.mark.parametrize(
    ("setting", "core"), [("core = sysmon", "sysmon"), ("timid = true", "pytrace")]
)
def test_another_core_is_overruled_in_one_line(tmp_path: Path, capfd, setting, core) -> None:
    templates = tmp_path / "templates"
    write(templates, "page.html", PAGE)
    with Measure(templates, extra=setting + "\n") as measure:
        environment(templates).get_template("page.html").render(title="T", items=[])
    assert measure.lines("page.html")  # measured all the same
    assert dict(measure.cov.sys_info())["core"] == "CTracer"
    assert (
        f"livecov.jinja: coverage core {core} runs no plugins: templates are measured with"
        " the C tracer (core ctrace) instead"
    ) in capfd.readouterr().err.splitlines()


def test_no_c_tracer_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "coverage.tracer", None)  # as if not compiled
    plugin = JinjaPlugin({})
    config = coverage.Coverage(data_file=None).config
    with pytest.raises(ConfigError, match="C tracer, which is not installed here"):
        plugin.configure(config)


# --- The tracer, called as coverage.py's C tracer calls it, with real template frames.


def step_through(template: jinja2.Template, tracer, **variables) -> list[tuple[str, tuple]]:
    """Render chunk by chunk; for each, what the tracer records at the paused line."""
    generator = template.root_render_func(template.new_context(variables))
    seen = []
    for chunk in generator:
        innermost = generator
        while innermost.gi_yieldfrom is not None:
            innermost = innermost.gi_yieldfrom
        seen.append((chunk, tracer.line_number_range(innermost.gi_frame)))
    return seen


def test_the_tracer_maps_each_rendered_chunk_to_its_template_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path, "page.html", "<p>\n  text\n</p>\n{{ x }}\n{% if x %}\n  yes\n{% endif %}\n"
    )
    template = environment(tmp_path).get_template("page.html")
    for branch in (False, True):
        plugin = JinjaPlugin({})
        plugin.branch = branch
        tracer = plugin.file_tracer(str(path))
        assert tracer.source_filename() == str(path)
        seen = step_through(template, tracer, x=1)
        assert seen[0] == ("<p>\n  text\n</p>\n", (1, 3))
        assert seen[1] == ("1", (4, 4))
        assert seen[3] == ("\n  yes\n", (6, 6))
        blank = seen[2]  # the newline between {{ x }} and {% if %}: no template line
        assert blank[0] == "\n"
        assert blank[1] == ((decode_marker(5),) * 2 if branch else (-1, -1))


def decode_marker(line: int) -> int:
    value = -(10_000_000 + line)
    assert decode(value) == line
    return value


def test_the_tracer_records_nothing_for_the_compiled_module_itself() -> None:
    tracer = JinjaPlugin({}).file_tracer("/x/page.html")
    assert tracer.line_number_range(sys._getframe()) == (-1, -1)  # no debug_info here


def test_only_template_files_are_claimed() -> None:
    plugin = JinjaPlugin({})
    assert plugin.file_tracer("/app/views.py") is None
    assert plugin.file_tracer("/app/templates/Page.HTML") is not None
    assert plugin.sys_info() == [("environment", "jinja2.Environment()")]


def test_a_template_changed_on_disk_before_rendering_is_not_measured_and_says_so(
    tmp_path: Path, capfd
) -> None:
    path = write(tmp_path, "page.html", "<p>one</p>\n")
    template = environment(tmp_path).get_template("page.html")
    path.write_text("{% if x %}\n<p>two</p>\n{% endif %}\n")
    tracer = JinjaPlugin({}).file_tracer(str(path))
    assert step_through(template, tracer) == [("<p>one</p>", (-1, -1))]
    assert "page.html is not measured until it is loaded again" in capfd.readouterr().err


def test_a_template_gone_from_disk_is_not_measured_and_says_so(tmp_path: Path, capfd) -> None:
    path = write(tmp_path, "page.html", "<p>one</p>\n")
    template = environment(tmp_path).get_template("page.html")
    path.unlink()
    tracer = JinjaPlugin({}).file_tracer(str(path))
    assert step_through(template, tracer) == [("<p>one</p>", (-1, -1))]
    assert "page.html is not measured: it cannot be compiled again" in capfd.readouterr().err


# --- The repair of branch data (a coverage.py C tracer quirk with generators).


def test_without_repair_a_resumed_template_records_python_line_numbers(tmp_path: Path) -> None:
    templates = copy_corpus(tmp_path)
    with Measure(templates, repair=False) as measure:
        env = environment(templates)
        env.get_template("child.html").render(user="bob")
    polluted = measure.lines("base.html")
    executable = build_map(
        environment(), (templates / "base.html").read_text(), None, "base.html"
    ).statements
    assert polluted - executable  # numbers of the compiled module's Python lines

    assert repair_data(str(measure.data_file)) > 0
    # Lines 3 and 4 (blank, comment) lie inside one piece of output (lines 2-5).
    assert measure.lines("base.html") == {1, 2, 3, 4, 5, 6, 7, 11, 12}
    assert repair_data(str(measure.data_file)) == 0  # repairing twice changes nothing


def test_repair_leaves_other_data_alone(tmp_path: Path) -> None:
    assert repair_data(str(tmp_path / "missing")) == 0
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()
    assert repair_data(str(other)) == 0


def test_repair_command(tmp_path: Path) -> None:
    templates = copy_corpus(tmp_path)
    with Measure(templates, repair=False) as measure:
        environment(templates).get_template("child.html").render(user="bob")
    command = [sys.executable, "-m", "livecov.jinja"]
    done = subprocess.run(
        [*command, str(measure.data_file)], capture_output=True, text=True, check=True
    )
    assert "template arcs repaired" in done.stdout
    assert measure.lines("base.html") == {1, 2, 3, 4, 5, 6, 7, 11, 12}
    missing = subprocess.run(
        [*command, str(tmp_path / "nothing")], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 1
    assert "no coverage data file" in missing.stderr


ASYNC_PAGE = """\
{% for x in items %}
<li>{{ x }}</li>
{% endfor %}
{% include "part.html" %}
{% if a %}
<p>a</p>
{% endif %}
"""


def test_async_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    templates = tmp_path / "templates"
    write(templates, "page.html", ASYNC_PAGE)
    write(templates, "part.html", "<p>part</p>\n")
    # The report reads the templates as the app compiles them: async.
    write(tmp_path, "async_env.py", "import jinja2\nenv = jinja2.Environment(enable_async=True)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with Measure(templates, extra="[livecov.jinja]\nenvironment = async_env:env\n") as measure:
        env = environment(templates, enable_async=True)
        template = env.get_template("page.html")
        # In a thread of its own: an earlier test's event loop may still run in this one.
        with ThreadPoolExecutor(1) as pool:
            render = pool.submit(asyncio.run, template.render_async(items=[1], a=False))
            assert "<li>1</li>" in render.result(timeout=60)
    report = measure.json()["page.html"]
    assert report["executed_lines"] == [1, 2, 4, 5]
    assert report["missing_lines"] == [6]
    # An async for pauses before its body: not a branch. The if is one.
    assert report["executed_branches"] == [[5, -1]]
    assert report["missing_branches"] == [[5, 6]]


def test_the_tracer_compiles_a_template_once_for_all_its_blocks(tmp_path: Path) -> None:
    path = write(tmp_path, "page.html", "<h1>\n{% block title %}\nTitle\n{% endblock %}\n</h1>\n")
    template = environment(tmp_path).get_template("page.html")
    tracer = JinjaPlugin({}).file_tracer(str(path))
    seen = step_through(template, tracer)
    assert seen == [("<h1>\n", (1, 1)), ("\nTitle\n", (3, 3)), ("\n</h1>", (5, 5))]
    assert len(tracer._maps) == 1  # root and block_title: one template, compiled once


def measure_named_source(tmp_path: Path, run_options: str, templates: Path) -> Path:
    """Render ``page.html`` of ``templates`` measured with ``run_options`` (a source named by
    package, as ``--cov=boutique`` does); the data file."""
    rcfile = tmp_path / "named.rc"
    rcfile.write_text(
        "[run]\nbranch = true\nplugins = livecov.jinja\n"
        f"disable_warnings = module-not-imported\n{run_options}\n"
    )
    data_file = tmp_path / ".coverage-named"
    cov = coverage.Coverage(config_file=str(rcfile), data_file=str(data_file))
    cov.start()
    environment(templates).get_template("page.html").render(title="Boutique", items=[])
    cov.stop()
    cov.save()
    repair_data(str(data_file))
    return data_file


@pytest.mark.parametrize(
    ("run_options", "folder"),
    [
        ("source = boutique", "boutique/templates"),
        ("source = boutique.web", "boutique/web/templates"),
        ("source_pkgs = boutique", "boutique/templates"),
    ],
)
def test_templates_inside_a_source_named_by_package_are_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_options: str, folder: str
) -> None:
    """coverage.py puts a file in a source package by the module name of the code running
    it; a template has none: without the package's folder, 0 % as if never rendered."""
    write(tmp_path, "boutique/__init__.py", "")
    write(tmp_path, "boutique/web/__init__.py", "")
    page = write(tmp_path, f"{folder}/page.html", PAGE)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")  # "boutique" is no folder of the current one: a package

    data = coverage.CoverageData(str(measure_named_source(tmp_path, run_options, page.parent)))
    data.read()

    assert set(data.lines(str(page)) or ()) == {1, 2, 5}  # items=[]: the else branch
    assert "boutique" not in sys.modules  # found, never imported (its lines run measured)


@pytest.mark.parametrize(
    ("source", "said"),
    [("nowhere_to_be_found", True), ("boutique.missing", False), ("boutique_module", False)],
)
def test_a_source_package_that_cannot_be_found_is_said_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    source: str,
    said: bool,
) -> None:
    write(tmp_path, "boutique/__init__.py", "")
    write(tmp_path, "boutique_module.py", "")
    page = write(tmp_path, "elsewhere/page.html", PAGE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path / "elsewhere")

    data_file = measure_named_source(tmp_path, f"source = {source}", page.parent)
    lines = [line for line in capfd.readouterr().err.splitlines() if "livecov.jinja" in line]
    report = coverage.Coverage(config_file=str(tmp_path / "named.rc"), data_file=str(data_file))
    report.load()  # configured, plugins and all, to report: it measures nothing, says nothing

    expected = (
        f"livecov.jinja: source names the package {source!r}, which is not importable when"
        " coverage starts, so its templates are not measured in this process: name its"
        f' folder instead (source = ["src/{source}"], --cov=src/...)'
    )
    assert lines == ([expected] if said else [])
    assert "livecov.jinja" not in capfd.readouterr().err


def test_the_unfound_package_is_said_once_at_the_first_file_traced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The plugin driven as coverage.py drives it (configured, then asked for each new file
    it traces), outside a measurement of its own so that this suite's records the line."""
    monkeypatch.chdir(tmp_path)
    rcfile = write(tmp_path, "named.rc", "[run]\nsource = nowhere_to_be_found, .\n")
    plugin = JinjaPlugin({})
    plugin.configure(coverage.Coverage(config_file=str(rcfile)).config)
    configured = capfd.readouterr().err

    plugin.file_tracer(str(tmp_path / "first.py"))
    plugin.file_tracer(str(tmp_path / "second.py"))

    assert "livecov.jinja" not in configured
    said = capfd.readouterr().err.splitlines()
    assert len(said) == 1
    assert said[0].startswith("livecov.jinja: source names the package 'nowhere_to_be_found'")
