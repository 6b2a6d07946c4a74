"""``livecov affected``: which tests a change selects, and why (real git, real data files)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import coverage
import pytest

from livecov.affected.changes import Scope, innermost, node_id_of
from livecov.affected.data_index import DataIndex
from livecov.affected.git import git
from livecov.affected.record import RECORD_KEY, read_record, record, record_if_in_git
from livecov.affected.selection import Selection, describe, select
from livecov.affected.settings import AffectedSettings, load_affected_settings
from livecov.errors import EXIT_USAGE, ConfigError, GitError
from livecov.measure import server_context_marker
from livecov.settings import Settings, load_settings
from tests.livecov.affected_project import ALL, CONTEXTS, JINJA, Project

BIG = "tests/test_views.py::test_big"
SMALL = "tests/test_views.py::test_small"
OTHER = "tests/test_other.py::test_other[x]"
FLOW = "tests/e2e/test_flows.py::test_flow[chromium]"


def selected(selection: Selection) -> set[str]:
    assert not selection.everything, selection.everything
    return set(selection.node_ids())


def test_contexts_name_tests_by_node_id() -> None:
    assert node_id_of("tests/unit/test_x.py::test_y|run") == "tests/unit/test_x.py::test_y"
    assert (
        node_id_of("tests/unit/test_x.py::test_y[a|b]|setup") == "tests/unit/test_x.py::test_y[a|b]"
    )
    assert node_id_of("t.py::T::test_z|teardown") == "t.py::T::test_z"
    assert (
        node_id_of("tests/e2e/test_x.py::test_y[chromium]")
        == "tests/e2e/test_x.py::test_y[chromium]"
    )
    assert node_id_of("") is None
    assert node_id_of("live-server") is None
    assert node_id_of("smoke|run") is None


def test_nothing_changed_selects_nothing(repo: Project) -> None:
    selection = repo.select()
    assert selection.node_ids() == []
    assert selection.known == ALL
    assert selection.warnings == []
    assert (
        describe(selection)
        == f"0 of 4 tests affected by 0 changed file(s) since {selection.base[:12]}"
    )


def test_a_line_changed_in_place_selects_the_tests_that_ran_it(repo: Project) -> None:
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    selection = repo.select()
    assert selected(selection) == {BIG}
    assert selection.reasons() == {BIG: ["views.py:12 changed"]}
    assert selection.changed == ["views.py"]


def test_phases_of_one_test_are_one_test(repo: Project) -> None:
    repo.edit("views.py", 'return "small"', 'return "SMALL"')
    assert selected(repo.select()) == {SMALL}  # ran it in its setup phase


def test_an_added_line_selects_the_tests_that_ran_its_function(repo: Project) -> None:
    repo.edit("views.py", '        return "big"\n', '        return "big"\n    print(x)\n')
    selection = repo.select()
    assert selected(selection) == {BIG, SMALL}
    assert selection.reasons()[BIG] == ["views.py:13 (new) added (in view)"]


def test_a_removed_line_selects_the_tests_that_ran_its_function(repo: Project) -> None:
    repo.edit("views.py", '    if x > LIMIT:\n        return "big"\n', "")
    assert selected(repo.select()) == {BIG, SMALL}


def test_a_reindented_line_selects_by_function(repo: Project) -> None:
    repo.edit("views.py", '    return "small"', '        return "small"')
    assert selected(repo.select()) == {BIG, SMALL}


def test_a_line_changed_in_place_before_a_reindented_one_selects_by_function(
    repo: Project,
) -> None:
    repo.edit("views.py", '"big"\n    return "small"', '"BIG"\n        return "small"')
    assert repo.select().reasons()[BIG][0] == "views.py:12 changed (in view)"


def test_a_changed_line_that_never_ran_selects_by_function(repo: Project) -> None:
    repo.measure({"tests/test_views.py::test_big|run": {"views.py": [11]}})
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    selection = repo.select()
    assert selected(selection) == {BIG}
    assert selection.reasons()[BIG] == ["views.py:12 changed (in view)"]


def test_comments_and_blank_lines_select_nothing(repo: Project) -> None:
    repo.edit("views.py", "# how big?", "# how large?")
    repo.edit("views.py", "def other():\n", "def other():\n\n    # one\n")
    assert selected(repo.select()) == set()


def test_a_new_code_line_in_place_of_a_comment_selects_by_function(repo: Project) -> None:
    repo.edit("views.py", "    # how big?", "    x = abs(x)")
    assert selected(repo.select()) == {BIG, SMALL}


def test_a_comment_changed_with_the_code_below_it_selects_by_that_code(repo: Project) -> None:
    repo.write("branch.py", "def f(x):\n    if x:\n        # yes\n        return 1\n    return 0\n")
    repo.commit()
    repo.measure({BIG + "|run": {"branch.py": [2, 4]}, SMALL + "|run": {"branch.py": [2, 5]}})
    repo.edit(
        "branch.py", "        # yes\n        return 1\n", "        # sure\n        return 2\n"
    )
    assert repo.select().reasons() == {BIG: ["branch.py:4 changed"]}


def test_a_long_run_of_lines_changed_in_place_selects_by_line(repo: Project) -> None:
    body = "".join(f"    v{n} = 0\n" for n in range(300))
    repo.write("long.py", f"def f(x):\n    if x:\n        return 0\n{body}")
    repo.commit()
    repo.measure(
        {BIG + "|run": {"long.py": [2, *range(4, 304)]}, SMALL + "|run": {"long.py": [2, 3]}}
    )
    repo.write("long.py", f"def f(x):\n    if x:\n        return 0\n{body.replace('= 0', '= 1')}")
    assert selected(repo.select()) == {BIG}


def test_a_comment_on_the_last_line_without_a_final_newline_selects_nothing(
    repo: Project,
) -> None:
    repo.write("version.py", "VERSION = 1\n# first")
    repo.commit()
    repo.measure({**CONTEXTS, "": {**CONTEXTS[""], "version.py": [1]}})
    repo.edit("version.py", "# first", "# second")
    assert selected(repo.select()) == set()


def test_a_comment_in_place_of_a_blank_line_between_functions_selects_nothing(
    repo: Project,
) -> None:
    repo.edit("helpers.py", "\n\ndef start():", "\n# start\ndef start():")  # line 8
    assert selected(repo.select()) == set()


def test_a_module_of_one_comment_without_a_final_newline_selects_nothing(repo: Project) -> None:
    repo.write("pkg/__init__.py", "# the package")
    repo.commit()
    repo.measure({**CONTEXTS, "": {**CONTEXTS[""], "pkg/__init__.py": []}})
    repo.edit("pkg/__init__.py", "# the package", "# our package")
    assert selected(repo.select()) == set()


def test_a_new_constant_the_change_reads_selects_the_functions_reading_it(
    repo: Project,
) -> None:
    repo.edit("helpers.py", "from views import LIMIT\n\n", "from views import LIMIT\nEXTRA = 1\n")
    repo.edit("helpers.py", "return total + LIMIT", "return total + LIMIT + EXTRA")
    assert selected(repo.select()) == {FLOW}


UNREAD = "no measured code or test file reads"


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ('NAMES = ("a", "b")', 'NAMES = ("a", "b")\nROOT_URLCONF = "urls"', "ROOT_URLCONF"),
        ("import json\n", "import json\nimport signals\n", "signals"),
    ],
)
def test_a_name_nothing_measured_reads_selects_every_test(
    repo: Project, old: str, new: str, name: str
) -> None:
    """Read by name where nothing is measured (a framework's settings: Django's, Flask's
    config.from_object), or imported for its import's effects: any test can see it."""
    repo.edit("views.py", old, new)
    assert repo.select().everything == [
        f"views.py: {name} changed; {UNREAD} {name} (a setting the framework reads? an import"
        " for its side effects?)"
    ]
    repo.commit()
    repo.measure()
    repo.edit("views.py", new, old)  # removed, or changed: the same
    assert repo.select().everything[0].startswith(f"views.py: {name} changed; {UNREAD}")


def test_a_module_constant_selects_the_functions_that_read_it(repo: Project) -> None:
    repo.edit("views.py", "LIMIT = 3", "LIMIT = 4")
    (repo.root / "tests/test_other.py").unlink()
    selection = repo.select()
    # view() reads it here; helpers.double() reads it, imported.
    assert selected(selection) == {BIG, SMALL, FLOW}
    assert selection.reasons()[FLOW] == ["views.py: LIMIT changed (in double)"]


def test_a_constant_a_test_file_reads_selects_that_file(repo: Project) -> None:
    repo.write("tests/test_other.py", "from views import NAMES\ndef test_other(): NAMES\n")
    repo.commit()
    repo.measure()
    repo.edit("views.py", 'NAMES = ("a", "b")', 'NAMES = ("a",)')
    selection = repo.select()
    assert selected(selection) == {"tests/test_other.py"}
    assert selection.test_files == {
        "tests/test_other.py": "views.py: NAMES changed; the test file uses it"
    }


def test_a_constant_two_test_files_read_selects_both_files(repo: Project) -> None:
    repo.write("tests/test_other.py", "from views import NAMES\ndef test_other(): NAMES\n")
    repo.write("tests/e2e/test_flows.py", "import views\ndef test_flow(): views.NAMES\n")
    repo.commit()
    repo.measure()
    repo.edit("views.py", 'NAMES = ("a", "b")', 'NAMES = ("a",)')
    assert set(repo.select().test_files) == {"tests/test_other.py", "tests/e2e/test_flows.py"}


def test_a_constant_read_at_import_selects_every_test(repo: Project) -> None:
    repo.edit("helpers.py", "def start():", "START = LIMIT\n\n\ndef start():")
    assert UNREAD in repo.select().everything[0]  # START is new: nothing reads it yet
    repo.commit()
    repo.measure()
    repo.edit("views.py", "LIMIT = 3", "LIMIT = 5")
    assert repo.select().everything == ["views.py: LIMIT changed; helpers.py:9 uses it at import"]


def test_renamed_imports_and_defaults_read_at_import(repo: Project) -> None:
    repo.write("helpers.py", "from views import NAMES as N\n\n\ndef f(n=N):\n    return n\n")
    repo.commit()
    repo.measure()
    repo.edit("views.py", 'NAMES = ("a", "b")', 'NAMES = ("a",)')
    assert "helpers.py:1 uses it at import" in repo.select().everything[0]


def test_attributes_and_imports_inside_functions_are_reads(repo: Project) -> None:
    repo.write(
        "helpers.py",
        "import views\n\n\ndef double(y) -> int:\n    from views import NAMES\n"
        "    return views.LIMIT\n",
    )
    repo.commit()
    repo.measure()
    repo.edit("views.py", "LIMIT = 3", "LIMIT: int = 4")
    repo.edit("views.py", 'NAMES = ("a", "b")', 'NAMES = ("c",)')
    assert selected(repo.select()) == {BIG, SMALL, FLOW}


def test_an_added_import_selects_what_reads_its_name(repo: Project) -> None:
    repo.edit("views.py", "import json\n", "import json\nfrom json import loads as LIMIT\n")
    assert selected(repo.select()) == {BIG, SMALL, FLOW}


def test_a_plain_function_signature_selects_it_and_its_callers(repo: Project) -> None:
    repo.edit("views.py", "def other():", "def other(a=1):")
    assert selected(repo.select()) == {OTHER}


def test_a_new_plain_function_selects_nothing_until_called(repo: Project) -> None:
    repo.edit("views.py", "class Thing:", "def helper():\n    return 3\n\n\nclass Thing:")
    assert selected(repo.select()) == set()


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("@decorate\n", "@decorate(1)\n", "views.py:20 changed: it runs at import"),
        ("    size = 1", "    size = 2", "views.py:26 changed: it runs at import"),
        ("class Thing:", "@decorate\ndef new():\n    pass\n\n\nclass Thing:", "views.py:25 (new)"),
        ('"""Views."""', '"""Views."""\nfrom __future__ import annotations', "views.py:2 (new)"),
        ("def view(x):", "def view(x):\n    return (", "views.py does not compile"),
    ],
)
def test_import_level_code_selects_every_test(repo: Project, old: str, new: str, why: str):
    repo.edit("views.py", old, new)
    selection = repo.select()
    assert selection.everything
    assert selection.everything[0].startswith(why)
    assert set(selection.node_ids()) == ALL
    assert describe(selection).startswith(f"every test is affected since {selection.base[:12]}: ")


def test_a_line_run_outside_any_test_selects_every_test(repo: Project) -> None:
    repo.edit("helpers.py", "return 0", "return 1")
    assert repo.select().everything == ["helpers.py:10 ran outside any test (live-server)"]
    repo.measure({"": {"helpers.py": [5]}, "tests/test_other.py::test_other[x]": {}})
    repo.edit("helpers.py", "total = y * 2", "total = y * 3")
    assert repo.select().everything[0] == "helpers.py:5 ran outside any test (no context)"


def test_beside_the_live_servers_tests_a_line_run_outside_any_test_still_selects_every_test(
    repo: Project,
) -> None:
    def measure_with_server_marks(outside: str) -> None:
        contexts = {**CONTEXTS, outside: {"helpers.py": [5]}}
        repo.measure(contexts)
        with sqlite3.connect(repo.data) as db:  # what livecov adds for the server's contexts
            db.executemany(
                "INSERT INTO context (context) VALUES (?)",
                [(server_context_marker(c),) for c in ("live-server", FLOW)],
            )
        db.close()

    measure_with_server_marks("")
    assert selected(repo.select()) == set()
    repo.edit("helpers.py", "return 0", "return 1")  # run by the server at its start-up
    assert repo.select().reasons() == {FLOW: ["helpers.py:10 changed"]}
    repo.edit("helpers.py", "total = y * 2", "total = y * 3")  # at import, and by FLOW
    assert repo.select().everything == ["helpers.py:5 ran outside any test (no context)"]
    repo.git("checkout", "--", "helpers.py")
    measure_with_server_marks("unit")  # as `coverage run --context=unit` names its lines
    repo.edit("helpers.py", "total = y * 2", "total = y * 3")
    assert repo.select().everything == ["helpers.py:5 ran outside any test (unit)"]


def test_a_line_of_a_nested_function_selects_by_the_innermost_function(repo: Project) -> None:
    repo.write(
        "nested.py",
        '"""Nested."""\n\n\ndef outer(flag):\n    def inner():\n        x = "inner"\n'
        "        return x\n\n    if flag:\n        return inner()\n    return None\n",
    )
    repo.commit()
    repo.measure({BIG + "|run": {"nested.py": [5, 9, 11]}})  # outer ran, inner never did
    repo.edit("nested.py", 'x = "inner"', 'x = "INNER"')
    assert selected(repo.select()) == set()
    repo.git("checkout", "nested.py")
    repo.edit("nested.py", "        return x\n", "        print(x)\n        return x\n")  # added
    assert selected(repo.select()) == set()


def test_a_short_line_moved_out_of_its_block_selects_by_function(repo: Project) -> None:
    repo.write("loop.py", "def f(x):\n    for _ in x:\n        f(())\n        pass\n    return x\n")
    repo.commit()
    repo.measure({BIG + "|run": {"loop.py": [2, 3, 4, 5]}, SMALL + "|run": {"loop.py": [2, 5]}})
    repo.edit("loop.py", "        pass\n", "    pass\n")  # now after the loop: every caller
    assert selected(repo.select()) == {BIG, SMALL}


def test_an_edit_in_place_keeps_its_tests_beside_a_later_rewrite(repo: Project) -> None:
    repo.edit("views.py", 'return "big"', 'return "BIG"')  # in place: the tests that ran it
    repo.edit("views.py", "return self.size\n", "size = self.size\n        return size\n")
    selection = repo.select()
    assert selection.reasons() == {
        BIG: ["views.py:12 changed"],
        FLOW: [
            "views.py:29 changed (in Thing.method)",
            "views.py:29 (new) added (in Thing.method)",
            "views.py:30 (new) added (in Thing.method)",
        ],
    }


def test_methods_select_by_their_function(repo: Project) -> None:
    repo.edit("views.py", "return self.size", "return self.size + 1")
    assert selected(repo.select()) == {FLOW}


# -- templates --------------------------------------------------------------------------


def test_template_line_that_ran_selects_its_tests(repo: Project) -> None:
    repo.edit("templates/page.html", "<p>big</p>", "<p>huge</p>")
    assert selected(repo.select()) == {BIG}


def test_template_lines_without_data_select_by_block_or_template(repo: Project) -> None:
    repo.edit("templates/page.html", "  {% endif %}", "  {%- endif %}")
    selection = repo.select()
    assert selected(selection) == {BIG, SMALL}
    assert selection.reasons()[SMALL] == ["templates/page.html:6 changed (in block content)"]
    repo.edit("templates/page.html", '{% extends "base.html" %}', "{% extends 'base.html' %}")
    assert selected(repo.select()) == {BIG, SMALL}


def test_template_added_lines_select_by_block_or_template(repo: Project) -> None:
    repo.edit("templates/page.html", "{% endblock %}", "  <p>new</p>\n{% endblock %}")
    selection = repo.select()
    assert selection.reasons()[BIG] == ["templates/page.html:7 added (in block content)"]
    repo.edit("templates/page.html", "  <p>new</p>\n", "")
    repo.edit("templates/page.html", "<footer>", "<hr>\n<footer>")
    assert repo.select().reasons()[BIG] == ["templates/page.html:8 added (in the template)"]
    # A new block is not in the measured version: the whole template.
    repo.edit("templates/page.html", "<hr>\n", "{% block extra %}\n<hr>\n{% endblock %}\n")
    assert selected(repo.select()) == {BIG, SMALL}


def test_template_that_does_not_compile_selects_every_test_rendering_it(repo: Project):
    repo.edit("templates/page.html", "{% endif %}", "{% endif")
    selection = repo.select()
    assert selected(selection) == {BIG, SMALL}
    assert "templates/page.html does not compile" in selection.reasons()[BIG][0]


def test_a_template_that_does_not_compile_names_its_lines_when_one_ran_outside_a_test(
    repo: Project,
) -> None:
    repo.measure({"": {"templates/page.html": [1]}})  # rendered at import, say
    repo.edit("templates/page.html", "{% endif %}", "{% endif")
    # The whole template: its 8 lines (the text ends with a newline, not a 9th line).
    expected = "templates/page.html:1-8 ran outside any test (no context)"
    assert repo.select().everything == [expected]


def test_other_template_languages_are_not_parsed_as_jinja(repo: Project) -> None:
    repo.write("templates/django.html", "{% load static %}\n<p>x</p>\n")
    repo.commit()
    name = str(repo.root / "templates/django.html")
    repo.data.unlink()
    data = coverage.CoverageData(str(repo.data))  # as django_coverage_plugin writes it
    data.set_context(SMALL + "|run")
    data.add_lines({name: [1, 2]})
    data.add_file_tracers({name: "django_coverage_plugin.DjangoTemplatePlugin"})
    data.write()
    record(repo.data, repo.root)
    repo.edit("templates/django.html", "<p>x</p>", "<p>y</p>")
    assert repo.select().reasons() == {SMALL: ["templates/django.html:2 changed"]}
    repo.git("checkout", "templates/django.html")
    repo.measure()  # Jinja's, whose templates must parse as Jinja
    repo.edit("templates/page.html", "{% endif %}", "{% load static %}{% endif %}")
    assert "templates/page.html does not compile" in repo.select().reasons()[BIG][0]


def test_a_template_measured_without_a_plugin_selects_every_test_that_rendered_it(
    repo: Project,
) -> None:
    # Without a template plugin, coverage.py records the lines of the Python Jinja compiled
    # the template to, under the template's name: they are not the template's lines.
    repo.data.unlink()
    data = coverage.CoverageData(str(repo.data))
    data.set_context(SMALL + "|run")
    data.add_lines({str(repo.root / "templates/page.html"): [40, 41]})
    data.write()
    record(repo.data, repo.root)
    repo.edit("templates/page.html", "<p>big</p>", "<p>huge</p>")
    assert repo.select().reasons() == {
        SMALL: ["templates/page.html changed (no template plugin) (in the template)"]
    }


def test_an_arc_started_at_a_python_line_of_a_template_is_no_template_line(repo: Project) -> None:
    # Unrepaired data (pytest-cov's): after a resumed yield, coverage.py started an arc at a
    # Python line of the compiled template (6); template line 6 ({% endif %}) never ran.
    page = str(repo.root / "templates/page.html")
    repo.data.unlink()
    data = coverage.CoverageData(str(repo.data))
    data.set_context(BIG + "|run")
    data.add_arcs({page: {(-1, 2), (2, 3), (3, 4), (4, 5), (5, 8), (8, -1)}})
    data.set_context(SMALL + "|run")
    data.add_arcs({page: {(-1, 2), (2, 3), (3, 4), (6, 8), (8, -1)}})
    data.add_file_tracers({page: JINJA})
    data.write()
    record(repo.data, repo.root)
    repo.edit("templates/page.html", "  {% endif %}", "  {%- endif %}")
    assert repo.select().reasons() == {
        BIG: ["templates/page.html:6 changed (in block content)"],
        SMALL: ["templates/page.html:6 changed (in block content)"],
    }


def test_a_template_without_a_final_newline_ends_at_its_last_line(repo: Project) -> None:
    repo.write("templates/note.html", "{# a note #}\n<p>{{ note }}</p>")
    repo.commit()
    repo.measure({**CONTEXTS, BIG + "|run": {"templates/note.html": [2]}})  # only line 2 runs
    repo.edit("templates/note.html", "{# a note #}", "{# the note #}")
    assert repo.select().reasons() == {BIG: ["templates/note.html:1 changed (in the template)"]}


def test_another_template_plugins_data_is_read_as_coverage_py_reads_it(repo: Project) -> None:
    # Only livecov.jinja's arcs are read by their ends; another plugin's lines are coverage.py's.
    page = str(repo.root / "templates/page.html")
    repo.data.unlink()
    data = coverage.CoverageData(str(repo.data))
    data.set_context(BIG + "|run")
    data.add_arcs({page: {(-1, 2), (2, 4), (4, -1)}})
    data.set_context(SMALL + "|run")
    data.add_arcs({page: {(4, 8), (8, -1)}})  # its context began after line 4 ran
    data.add_file_tracers({page: "zz_templates.Plugin"})
    data.write()
    record(repo.data, repo.root)
    repo.edit("templates/page.html", "  {% if big %}", "  {% if huge %}")
    assert selected(repo.select()) == {BIG, SMALL}


def test_a_template_measured_without_a_plugin_counts_its_first_line_too(repo: Project) -> None:
    # The compiled module's first line runs when a test first loads the template.
    repo.data.unlink()
    data = coverage.CoverageData(str(repo.data))
    data.set_context(SMALL + "|run")
    data.add_lines({str(repo.root / "templates/page.html"): [1]})
    data.set_context(BIG + "|run")
    data.add_lines({str(repo.root / "templates/page.html"): [40, 41]})
    data.write()
    record(repo.data, repo.root)
    repo.edit("templates/page.html", "<p>big</p>", "<p>huge</p>")
    assert selected(repo.select()) == {BIG, SMALL}


def test_a_line_added_outside_any_block_selects_a_test_that_ran_only_line_1(
    repo: Project,
) -> None:
    repo.measure({**CONTEXTS, OTHER + "|run": {"templates/page.html": [1]}})  # extends only
    repo.edit("templates/page.html", "<footer>", "<hr>\n<footer>")
    assert selected(repo.select()) == {BIG, SMALL, OTHER}


def test_template_macros_and_unbalanced_ends(repo: Project) -> None:
    repo.write(
        "templates/page.html",
        "{% raw %}{% endblock %}{% endraw %}\n{% macro m() %}\nx\n{% endmacro %}\n",
    )
    repo.commit()
    repo.measure({"tests/test_views.py::test_big|run": {"templates/page.html": [2]}})
    repo.edit("templates/page.html", "x\n", "y\n")
    assert repo.select().reasons() == {BIG: ["templates/page.html:3 changed (in macro m)"]}


# -- files the data does not measure -----------------------------------------------------


def test_a_changed_test_file_selects_its_tests_new_ones_too(repo: Project) -> None:
    repo.edit("tests/test_views.py", "def test_big(): pass", "def test_big(): assert 1")
    repo.write("tests/unit/test_new.py", "def test_new(): pass\n")
    selection = repo.select()
    assert selection.node_ids() == ["tests/test_views.py", "tests/unit/test_new.py"]
    assert selection.selects("tests/test_views.py::test_big")
    assert selection.selects("tests/test_views.py::test_added_since")
    assert not selection.selects(OTHER)
    assert selection.selects("tests/somewhere/test_x.py::test_unknown")  # new: always runs
    assert describe(selection).startswith("2 of 4 tests affected by 2 changed file(s)")


def test_a_changed_test_file_stands_for_its_selected_tests(repo: Project) -> None:
    repo.edit("views.py", 'return "big"', 'return "BIG"')  # selects test_big
    repo.edit("tests/test_views.py", "def test_small(): pass", "def test_small(): 1")
    assert repo.select().node_ids() == ["tests/test_views.py"]  # test_big runs as part of it


def test_a_deleted_test_file_selects_nothing(repo: Project) -> None:
    (repo.root / "tests/test_other.py").unlink()
    assert repo.select().node_ids() == []


@pytest.mark.parametrize(
    "name", ["tests/conftest.py", "static/style.css", "schema.sql", "tests/helpers.py"]
)
def test_a_file_no_data_speaks_for_selects_every_test(repo: Project, name: str) -> None:
    repo.write(name, "changed\n")
    selection = repo.select()
    assert selection.everything == [f"{name} changed and no test data covers it"]
    assert set(selection.node_ids()) == ALL
    assert selection.reasons()[BIG] == selection.everything


def test_a_dotfile_that_sorts_before_the_data_file_is_a_change(repo: Project) -> None:
    repo.write(".circleci/config.yml", "version: 2.1\n")
    assert repo.select().everything == [".circleci/config.yml changed and no test data covers it"]


def test_ignore_and_always_globs(repo: Project) -> None:
    repo.write("docs/guide.md", "words\n")
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    settings = AffectedSettings(ignore=["docs/*"])
    assert selected(repo.select(settings=settings)) == {BIG}
    settings = AffectedSettings(ignore=["docs/*"], always=["views.py"])
    assert repo.select(settings=settings).everything == [
        "views.py changed ([tool.livecov.affected] always)"
    ]


def test_settings_from_pyproject(repo: Project) -> None:
    repo.write("pyproject.toml", '[tool.livecov.affected]\nignore = ["*.toml", "docs/*"]\n')
    repo.write("docs/a.md", "")
    assert repo.select().node_ids() == []
    assert load_settings(repo.root / "pyproject.toml") == Settings()  # a table of its own
    describe_all = repo.select(settings=AffectedSettings())
    assert len(describe_all.everything) == 2
    assert describe(describe_all).endswith("(and 1 more)")


def test_a_deleted_measured_file_selects_every_test(repo: Project) -> None:
    (repo.root / "helpers.py").unlink()
    assert repo.select().everything == ["helpers.py was deleted"]


# -- the base, the record, stale data --------------------------------------------------------


def test_the_base_defaults_to_the_commit_measured(repo: Project) -> None:
    measured = read_record(repo.data)
    assert measured is not None
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    later = repo.commit()
    selection = repo.select()
    assert selection.base == measured.commit
    assert selected(selection) == {BIG}
    # Against the later commit, nothing changed; the data is older: one line says so.
    selection = repo.select(base="HEAD")
    assert selection.base == later
    assert selection.node_ids() == []
    assert selection.warnings == [
        f"the data was measured at {measured.commit[:12]}, not at the base {later[:12]}"
    ]


def test_a_later_base_whose_id_sorts_first_is_still_another_commit(repo: Project) -> None:
    for attempt in range(100):  # a measured commit whose id sorts in the upper half
        if repo.git("rev-parse", "HEAD")[0] >= "8":
            break
        repo.git("commit", "-q", "--amend", "-m", f"measured {attempt}")
    repo.measure()
    measured = read_record(repo.data)
    assert measured is not None
    assert measured.commit is not None
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    later = repo.commit()
    for attempt in range(100):  # a later commit whose id sorts before the measured one's
        if later < measured.commit:
            break
        repo.git("commit", "-q", "--amend", "-m", f"change {attempt}")
        later = repo.git("rev-parse", "HEAD").strip()
    assert later < measured.commit
    assert repo.select(base="HEAD").node_ids() == []  # nothing changed since that commit


def test_lines_are_compared_with_the_version_measured(repo: Project) -> None:
    # Measured with an uncommitted change that moved every line of view() down by two.
    repo.edit("views.py", "def view(x):\n", "def view(x):\n    x = int(x)\n    x = abs(x)\n")
    repo.measure(
        {
            "tests/test_views.py::test_big|run": {"views.py": [11, 12, 13, 14]},
            "tests/test_views.py::test_small|run": {"views.py": [11, 12, 13, 15]},
        }
    )
    repo.edit("views.py", 'return "small"', 'return "SMALL"')
    selection = repo.select()
    assert selected(selection) == {SMALL}
    assert selection.warnings == [
        f"views.py: measured in another version than {selection.base[:12]}; "
        "lines are compared with the version measured"
    ]


def test_a_version_measured_uncommitted_and_unchanged_since_selects_nothing(
    repo: Project,
) -> None:
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    repo.measure()  # measured with the change, which is still there
    selection = repo.select()
    assert (selection.node_ids(), selection.warnings) == ([], [])


def test_any_version_measured_other_than_the_bases_is_said(repo: Project) -> None:
    # The same as above with another pair of versions: whichever of the two git ids is
    # the greater, a version other than the base's is one.
    repo.edit("views.py", "def view(x):\n", "def view(x):\n    x = abs(x)\n")
    repo.commit()
    repo.edit("views.py", "x = abs(x)", "x = int(x)")
    repo.measure(
        {
            "tests/test_views.py::test_big|run": {"views.py": [10, 12, 13]},
            "tests/test_views.py::test_small|run": {"views.py": [10, 12, 14]},
        }
    )
    repo.edit("views.py", 'return "small"', 'return "SMALL"')
    selection = repo.select()
    assert selected(selection) == {SMALL}
    assert selection.warnings == [
        f"views.py: measured in another version than {selection.base[:12]}; "
        "lines are compared with the version measured"
    ]


def test_a_change_measured_and_undone_since_is_a_change(repo: Project) -> None:
    repo.edit("views.py", "def view(x):\n", "def view(x):\n    x = abs(x)\n")
    repo.commit()  # a base whose git id sorts after the measured version's
    repo.edit("views.py", "x = abs(x)", "x = int(x)")
    repo.measure({BIG + "|run": {"views.py": [10, 12, 13]}, SMALL + "|run": {"views.py": [12]}})
    repo.git("checkout", "views.py")  # undone: the base's version again
    assert repo.select().reasons() == {BIG: ["views.py:10 changed"]}


def test_the_record_is_version_1_json_in_the_datas_meta_table(repo: Project) -> None:
    with sqlite3.connect(repo.data) as db:
        (raw,) = db.execute("SELECT value FROM meta WHERE key = 'livecov.affected'").fetchone()
    db.close()
    stored = json.loads(raw)
    assert (stored["version"], stored["commit"]) == (1, repo.git("rev-parse", "HEAD").strip())
    assert set(stored) == {"version", "commit", "root", "files"}


def test_a_version_measured_elsewhere_selects_every_test(repo: Project) -> None:
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    repo.measure()
    repo.git("checkout", "--", "views.py")
    # The measured version was never committed; record() gave it to git. Remove it, as if
    # the data had been measured in another clone.
    measured = read_record(repo.data).files["views.py"]  # type: ignore[union-attr]
    (repo.root / ".git" / "objects" / measured[:2] / measured[2:]).unlink()
    repo.edit("views.py", 'return "small"', 'return "tiny"')
    assert repo.select().everything == [
        "views.py: the version measured is not in this repository (measured elsewhere?)"
    ]


def test_data_without_a_record(repo: Project) -> None:
    repo.measure()
    with sqlite3.connect(repo.data) as db:
        db.execute("DELETE FROM meta WHERE key = 'livecov.affected'")
    db.close()
    assert read_record(repo.data) is None
    with pytest.raises(ConfigError) as refused:
        repo.select()
    assert str(refused.value) == (  # the ways out a project of the user's own has
        f"{repo.data} does not say which commit it was measured at: run livecov record (after "
        "coverage combine), measure with pytest --cov or livecov run (they record it), or give "
        "--base REV"
    )
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    selection = repo.select(base="HEAD")
    assert selected(selection) == {BIG}
    assert ".coverage has no livecov record: assuming it was measured at" in selection.warnings[0]
    repo.write("new.py", "x = 1\n")
    repo.git("add", "new.py")
    # A measured file that is not in the base, and no record says which version ran.
    repo.measure({"t.py::t|run": {"new.py": [1], "gone.py": [1]}})
    with sqlite3.connect(repo.data) as db:
        db.execute("DELETE FROM meta WHERE key = 'livecov.affected'")
    db.close()
    assert repo.select(base="HEAD").everything == [
        "new.py: the data does not say which version was measured",
        "views.py changed and no test data covers it",
    ]


def test_data_measured_in_another_checkout(repo: Project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "ci" / "checkout"
    repo.measure(at=elsewhere)
    data = coverage.CoverageData(str(repo.data))
    data.read()
    data.set_context(FLOW)
    data.add_lines({"/usr/lib/python3/site.py": [1], str(repo.root / "helpers.py"): [5]})
    data.write()
    record(repo.data, repo.root)
    # Recorded from here, but the data names files under the other checkout: CI's data.
    stored = read_record(repo.data)
    assert stored is not None
    stored.root = str(elsewhere)
    with sqlite3.connect(repo.data) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = ?", (stored.to_json(), RECORD_KEY))
    db.close()
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    repo.edit("helpers.py", "total = y * 2", "total = y * 3")
    assert selected(repo.select()) == {BIG, FLOW}


@pytest.mark.parametrize(
    ("recorded", "fix"),
    [
        (False, "run `livecov record` where it was measured, or measure with coverage's "
         "relative_files = true"),
        (True, "the code measured was not the checkout's (an installed copy? pip install -e .)"),
    ],
    ids=["another-checkout", "an-installed-copy"],
)  # fmt: skip
def test_data_of_files_outside_the_checkout_says_so(
    repo: Project, tmp_path_factory: pytest.TempPathFactory, recorded: bool, fix: str
) -> None:
    elsewhere = tmp_path_factory.mktemp("ci") / "checkout"
    repo.measure(at=elsewhere)  # recorded here: none of its files is
    if not recorded:
        with sqlite3.connect(repo.data) as db:
            db.execute("DELETE FROM meta WHERE key = ?", (RECORD_KEY,))
        db.close()
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    selection = repo.select(base="HEAD")
    assert selection.everything == ["views.py changed and no test data covers it"]
    assert selection.warnings[-1] == (
        f"no file the data measured is in this checkout ({repo.root}; they are under "
        f"{elsewhere}): {fix}"
    )


def test_the_data_file_itself_is_not_a_change(repo: Project) -> None:
    (repo.root / ".gitignore").unlink()
    repo.commit()
    repo.measure()
    assert repo.select().changed == []


def test_a_commit_less_repository_needs_a_base(tmp_path: Path) -> None:
    repo = Project.__new__(Project)
    repo.root, repo.data = tmp_path, tmp_path / ".coverage"
    repo.git("init", "-q")
    repo.write("views.py", "x = 1\n")
    assert repo.measure({"t.py::t|run": {"views.py": [1]}}).commit is None
    with pytest.raises(ConfigError, match="give --base REV"):
        repo.select()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no data", "no coverage data in"),
        ("bad revision", "'no-such-branch' is not a commit of this repository \\(--base\\)"),
        ("commit gone", "was measured at 0123456789ab, which is not a commit of this repository"),
        ("not git", "is not in a git repository"),
        ("no git", "git is not installed"),
    ],
)
def test_clear_errors(
    repo: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, setup: str, message: str
) -> None:
    where: Path = repo.root
    base = None
    if setup == "no data":
        repo.data.unlink()
    elif setup == "bad revision":
        base = "no-such-branch"
    elif setup == "commit gone":  # the data's commit, rebased away and collected
        with sqlite3.connect(repo.data) as db:
            (raw,) = db.execute("SELECT value FROM meta WHERE key = 'livecov.affected'").fetchone()
            record = json.loads(raw) | {"commit": "0123456789abcdef0123456789abcdef01234567"}
            db.execute(
                "UPDATE meta SET value = ? WHERE key = 'livecov.affected'", [json.dumps(record)]
            )
        db.close()
    elif setup == "not git":
        where = tmp_path.parent
    else:
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match=message):
        select(repo.data, base, where=where)


def test_the_innermost_scope_comes_first_far_down_a_long_function() -> None:
    outer, inner = Scope("outer", 2, 20), Scope("outer.inner", 10, 12)
    assert innermost([outer, inner], 11) == [inner, outer]
    assert innermost([outer, inner], 15) == [outer]


def test_git_refusing_a_command_is_one_usage_line_ending_with_gits_own(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    with pytest.raises(GitError) as refused:
        git(tmp_path, "cat-file", "blob", "0" * 40)
    message = str(refused.value)
    assert message.startswith("git cat-file: ")
    assert len(message) > len("git cat-file: ")
    assert "\n" not in message
    assert "failed" not in message
    assert isinstance(refused.value, ConfigError)
    assert refused.value.exit_status == EXIT_USAGE


def test_git_refusing_with_a_usage_hint_after_its_reason_gives_the_reason(
    tmp_path: Path,
) -> None:
    git(tmp_path, "init", "-q")
    with pytest.raises(GitError) as refused:
        git(tmp_path, "log", "no-such-revision")  # fatal: ..., then two lines of usage
    assert str(refused.value).startswith("git log: fatal: ambiguous argument 'no-such-revision'")


def test_git_failing_without_a_word_says_failed(tmp_path: Path) -> None:
    with pytest.raises(GitError) as refused:
        git(tmp_path, "-c", "alias.quiet=!false", "quiet")
    assert str(refused.value) == "git -c: failed"


# -- [tool.livecov.affected] --------------------------------------------------------------


def test_affected_settings_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    assert load_affected_settings(path) == AffectedSettings()
    path.write_text('[tool.livecov.affected]\nalways = ["a"]\nignore = ["b", "c"]\n')
    assert load_affected_settings(path) == AffectedSettings(always=["a"], ignore=["b", "c"])
    for text, message in [
        (
            "[tool.livecov.affected]\nnever = []\n",
            "unknown setting .* 'never' \\(always, ignore\\)",
        ),
        ("[tool.livecov.affected]\nalways = 'x'\n", "always must be a list of globs"),
        ("[tool.livecov.affected]\nignore = [1]\n", "ignore must be a list of globs"),
        ("[tool.livecov.affected\n", "pyproject.toml: "),
    ]:
        path.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_affected_settings(path)


def test_a_measured_test_file_selects_its_tests_and_by_lines(repo: Project) -> None:
    contexts = {BIG + "|run": {"tests/test_views.py": [1]}, OTHER + "|run": {"views.py": [17]}}
    repo.measure(contexts)
    repo.edit("tests/test_views.py", "def test_small(): pass", "def test_small(): 1")
    selection = repo.select()
    assert selection.test_files == {"tests/test_views.py": "tests/test_views.py changed"}
    assert selection.tests == {}  # line 2 ran in no test: no test function is known there


def test_import_level_code_of_a_measured_test_file_selects_its_tests_alone(
    repo: Project,
) -> None:
    """Tests inside the measured package (pkg/tests/test_x.py): a new test class or a
    decorated test runs at the module's import, which reaches its own tests alone, unless
    another file imports the module."""
    repo.measure({**CONTEXTS, "": {**CONTEXTS[""], "tests/test_views.py": [1, 2]}})
    repo.edit("tests/test_views.py", "def test_small(): pass", "@mark\ndef test_small(): pass")
    settings = AffectedSettings(ignore=["tools/*"])  # the files written below, not changes
    repo.write("tools/notes.py", "import os  # not test_views, only named\n")
    assert repo.select(settings=settings).node_ids() == ["tests/test_views.py"]
    repo.write("tools/broken.py", "test_views = (\n")  # does not parse: may import it
    assert repo.select(settings=settings).everything == [
        "tests/test_views.py:2 (new) changed: it runs at import"
    ]
    repo.write("tools/broken.py", "from tests import (\n    test_views,\n)\n")
    assert repo.select(settings=settings).everything
    repo.write("tools/broken.py", "import tests.test_views as t\n")
    assert repo.select(settings=settings).everything


def test_relative_file_names_are_relative_to_the_checkout(repo: Project) -> None:
    # coverage's relative_files = true
    repo.data.unlink()
    data = coverage.CoverageData(str(repo.data))
    data.set_context(BIG + "|run")
    data.add_lines({"views.py": [12]})
    data.write()
    assert record(repo.data, repo.root).files == {
        "views.py": repo.git("rev-parse", "HEAD:views.py").strip()
    }
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    assert selected(repo.select()) == {BIG}


def test_a_relative_name_no_project_folder_holds_is_relative_to_the_checkout(
    repo: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # coverage's relative_files = true, measured at the root; recorded from tests/
    repo.data.unlink()
    data = coverage.CoverageData(str(repo.data))
    data.set_context(BIG + "|run")
    data.add_lines({"views.py": [12], "gone.py": [1]})  # gone.py: deleted since
    data.write()
    monkeypatch.chdir(repo.root / "tests")
    measured = record(repo.data, repo.root)
    assert set(measured.files) == {"views.py"}
    index = DataIndex(
        data, repo.root, repo.git("rev-parse", "HEAD").strip(), measured, repo.root / "tests"
    )
    assert index.files == {"views.py": "views.py", "gone.py": "gone.py"}  # not tests/views.py


def test_a_file_that_is_not_coverage_data(repo: Project) -> None:
    repo.data.write_text("not a database")
    with pytest.raises(ConfigError, match="is not coverage data"):
        repo.select()


def test_record_if_in_git_is_quiet_without_data_or_git(repo: Project, tmp_path: Path) -> None:
    assert record_if_in_git(None, repo.root) is None
    assert record_if_in_git(repo.data, tmp_path.parent) is None  # not a git checkout
    stored = record_if_in_git(repo.data, repo.root)
    assert stored is not None
    assert stored == read_record(repo.data)
