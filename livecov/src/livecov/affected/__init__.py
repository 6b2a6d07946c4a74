"""``livecov affected``: the tests a change can break, from per-test coverage contexts.

The coverage data (what ``make test`` leaves in ``.coverage``) says, for every measured
line, which tests ran it: a unit test as ``<node id>|<phase>``, a browser test as the node
id the live server recorded. ``record.record`` stores in that data file the commit it was
measured at and the content of every measured file (as git blob ids, the blobs written to
git so the measured version can be read back). ``selection.select`` compares the working
tree with a base revision and maps each change to the tests that can see it:

* a changed or removed line that ran: the tests that ran it;
* a top-level assignment or import: the tests that ran a function reading the name, and the
  test files naming it; every test when nothing measured reads it (a framework reads its
  settings by name; an import for its side effects);
* a line that never ran, or an added one: the tests that ran its function (Python) or its
  template block, found by name in the measured version, else the template;
* a line the live server ran outside any test's request (``live-server``: at its start-up,
  a hook), where the data names the tests that used the server: those tests, and the tests
  that ran the line themselves;
* a line outside any function (it runs at import), a line run outside any test otherwise
  (at import in the test process; by a server whose data names no test), in a test phase
  that set up or tore down a fixture several tests share (``pytest_shared_fixtures``
  marks those phases), or for a test no
  test file here holds (a pytest run inside a test), a Python file that no longer
  compiles: every test;
* a changed test file: its tests, new ones included; any other file the data cannot speak
  for (conftest.py, fixtures, settings, SQL, static files, a Python file never measured):
  every test, unless ``[tool.livecov.affected]`` ``ignore`` says it cannot matter
  (``always`` makes a file select every test whatever it is).

The package, one module per concern: ``record`` (the record, stored and read back) with
``git``; ``settings``; ``selection`` (:func:`select`, :class:`Selection`), which reads the
data through ``data_index`` (with ``test_names``: where node ids live, which names are no
test here) and each changed file through ``python`` or ``templates``, both
built on ``changes`` (touched lines, scopes, the tests that ran them); ``report`` (the
command line's output). Nothing is imported here: ``import livecov.affected.record`` loads
none of the analysis.
"""
