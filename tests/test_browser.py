"""The course in a real browser: JupyterLab in student mode, driven like a student would.

One JupyterLab server (started through ``scripts/lab.py``, what ``make lab`` runs, on a
loopback port with a token, in a scratch copy of the release) and one headless Chromium
(Debian's ``chromium`` package, driven by Playwright from pip: no browser download) serve
the whole module. For each of the four notebooks the test

1. opens it and checks that nbgrader's instructor tools are absent and Validate is present;
2. types the reference solution into every answer cell (taken from ``solutions/``);
3. runs Kernel > Restart Kernel and Run All Cells and waits until the kernel is idle;
4. checks that nothing went to stderr, every visible test printed its success line, every
   figure was drawn and the network's prediction shows the digits 1-5;
5. clicks Validate and checks that nbgrader reports success;
6. saves a screenshot of the whole notebook to ``build/browser-artifacts/``.

Then each blank release notebook is run as shipped: it must stop at its first answer, with
the ``NotImplementedError`` of the stub. Two more tests check student mode on the server
(plugins disabled and locked, instructor server extensions off, no news) and that the
interface switches to Simplified Chinese.

The server and the browser are stopped by PID at the end, also when a test fails. After the
run pytest prints where the screenshots are and how long each step took. Chromium or
Playwright missing: the tests fail under CI (``CI=true``) and are skipped elsewhere, with
the reason.
"""

import ast
import os
import re
import shutil
import time

import pytest

from browser_helpers import (
    PANEL, ROOT, Browser, LabServer, choose_language, cjk_font_available, click_menu, find_chromium, fresh_profile_dir,
    menu_bar_labels, notification_toasts, open_notebook, palette_items, rendered_cells, restart_and_run_all, save,
    screenshot_notebook, sidebar_tab_titles, type_cell, validate, wait_run_finished,
)
from test_notebooks import (
    ASSIGNMENTS, GRADED, MARKER, is_answer, is_manual, is_test, nbgrader_meta, passed_visibly, read, solution_path,
)

ARTIFACTS = ROOT / "build" / "browser-artifacts"
STDERR = "application/vnd.jupyter.stderr"

#: nbgrader's JupyterLab plugins that student mode disables and locks, and the one it keeps.
INSTRUCTOR_PLUGINS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                      "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:assignment-list",
                      "@jupyter/nbgrader:menu"]
VALIDATE_PLUGIN = "@jupyter/nbgrader:validate-assignment"
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
#: What those plugins put on screen: menu, sidebar panels, command palette entries.
INSTRUCTOR_LABELS = ["Nbgrader", "Formgrader", "Create Assignment", "Create assignment", "Assignment List",
                     "Course List", "Assignments", "Courses"]

#: What shows that each trained network recognises the five training digits.
PREDICTIONS = {
    "01_relu_network": (r"predicted: \[([\d ]+)\]", 1),
    "02_softmax_comparison": (r"\s(\d)/5\s", 8),        # the tables' "train" column: digits recognised of 5
    "03_sigmoid_dropout": (r"predicted \[([\d ]+)\]", 2),
    "04_relu_dropout": (r"predicted \[([\d ]+)\]", 2),
}

TIMINGS = {}   # notebook -> {step: seconds}, printed after the run
FIGURES = {}   # notebook -> images counted


def missing_prerequisites():
    """Why the browser test cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright; it drives Debian's chromium, no download)"
    if find_chromium() is None:
        return "Chromium is not installed (apt-get install chromium)"
    return None


class _Summary:
    """Prints, after the run, where the screenshots are and how long each step took."""

    def __init__(self):
        self.lines = []

    def pytest_terminal_summary(self, terminalreporter):
        if self.lines:
            terminalreporter.section("browser test (JupyterLab in Chromium)")
            for line in self.lines:
                terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def lab(request, tmp_path_factory):
    """One JupyterLab server in student mode and one Chromium for the module; both stopped by PID at the end."""
    reason = missing_prerequisites()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run in CI: {reason}")
        pytest.skip(reason)
    started = time.monotonic()
    summary = _Summary()
    request.config.pluginmanager.register(summary, "reludrop-browser-summary")
    work = tmp_path_factory.mktemp("browser")
    root = work / "release"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)

    server = LabServer(root, work / "jupyter-home", ARTIFACTS / "jupyterlab.log")
    browser = Browser(find_chromium(), fresh_profile_dir(work))

    def stop():
        try:
            browser.stop()
        finally:
            server.stop()
        summary.lines.append(f"screenshots and server log: {ARTIFACTS}")
        for name, steps in TIMINGS.items():
            figures = f" ({FIGURES[name]} figures)" if name in FIGURES else ""
            summary.lines.append(f"  {name}{figures}: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
        total = time.monotonic() - started
        summary.lines.append(f"  whole module (server and browser start-up included): {total:.0f} s")
        if not cjk_font_available():
            summary.lines.append("  note: no Chinese font installed (e.g. apt-get install fonts-wqy-microhei): "
                                 "the screenshots show boxes in place of Chinese characters")

    request.addfinalizer(stop)
    server.start()
    browser.start()
    TIMINGS["start-up"] = {"server and browser": time.monotonic() - started}
    return {"server": server, "page": browser.page, "root": root, "browser": browser}


def solved_source(cell):
    """An answer cell of the solutions with the reference answer in place: the marker lines dropped."""
    return "\n".join(line for line in cell.source.split("\n")
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def figures_drawn(source):
    """How many figures a cell shows: each plt.subplots()/plt.figure() and each plot_*() call not given an ax=."""
    try:
        tree = ast.parse("\n".join(ln for ln in source.split("\n") if not ln.lstrip().startswith("%")))
    except SyntaxError:
        return 0
    count = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "plt" \
                and func.attr in ("subplots", "figure"):
            count += 1
        elif isinstance(func, ast.Name) and func.id.startswith("plot_") \
                and not any(k.arg == "ax" for k in node.keywords):
            count += 1
    return count


def check_student_mode_ui(page):
    """Instructor tools absent from menus, sidebars and command palette; Validate in the notebook toolbar; no pop-up."""
    menus = menu_bar_labels(page)
    assert "Kernel" in menus and "Nbgrader" not in menus, f"menu bar: {menus}"
    tabs = sidebar_tab_titles(page)
    assert not [t for t in tabs if any(label in t for label in INSTRUCTOR_LABELS)], f"sidebar tabs: {tabs}"
    items, headers = palette_items(page, "nbgrader")
    assert not [h for h in headers if "nbgrader" in h.lower()], f"command palette sections: {headers}"
    for query in ("Formgrader", "Assignment", "Course List"):
        items, _ = palette_items(page, query)
        assert not [i for i in items if any(label in i for label in INSTRUCTOR_LABELS)], \
            f"command palette offers an instructor tool for {query!r}: {items}"
    validate_button = page.locator(f"{PANEL} .jp-NotebookPanel-toolbar .validate-button")
    assert validate_button.count() == 1 and validate_button.is_visible(), "no Validate button in the notebook toolbar"
    assert validate_button.text_content().strip() == "Validate"
    toasts = notification_toasts(page)
    assert not toasts, f"student mode shows no pop-up, but there is: {toasts}"


def test_student_mode_on_the_server(lab):
    """Are nbgrader's instructor plugins disabled and locked, its instructor server extensions off, Validate's on,
    the Chinese language pack offered and the news feed off?"""
    server, page = lab["server"], lab["page"]
    page.goto(f"{server.url}/lab?reset&token={server.token}")
    config = page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent)")
    for plugin in [*INSTRUCTOR_PLUGINS, NEWS_PLUGIN]:
        assert plugin in config["disabledExtensions"], f"{plugin} is not disabled"
        assert plugin in config["lockedExtensions"], f"{plugin} is not locked"
    assert VALIDATE_PLUGIN not in config["disabledExtensions"]
    assert VALIDATE_PLUGIN in config["lockedExtensions"], "students must not be able to switch Validate off"
    assert config["news"] == {"disabled": True}
    status, locks = server.api("GET", "/lab/api/plugins")
    assert status == 200 and set(INSTRUCTOR_PLUGINS) <= set(locks["lockRules"]), locks
    # JupyterLab's plugin manager refuses to switch an instructor plugin on, or Validate off.
    for cmd, plugin in [("enable", INSTRUCTOR_PLUGINS[0]), ("enable", INSTRUCTOR_PLUGINS[-1]),
                        ("disable", VALIDATE_PLUGIN)]:
        status, answer = server.api("POST", "/lab/api/plugins", {"cmd": cmd, "plugin_name": plugin})
        assert status == 500 and answer["status"] == "error" and "locked" in answer["message"], \
            f"{cmd} {plugin} was not refused: {status} {answer}"
    # Server side: the formgrader, course list and assignment list are gone; Validate's handlers answer.
    for path in ("/formgrader/api/status", "/formgraders", "/assignments", "/courses"):
        assert server.api("GET", path)[0] == 404, f"{path} is served: an instructor server extension is on"
    assert server.api("GET", "/nbgrader_version?version=0.9.6") == (200, {"success": True})
    status, translations = server.api("GET", "/lab/api/translations")
    assert status == 200 and "zh_CN" in translations["data"], f"no Simplified Chinese language pack: {translations}"
    assert server.api("GET", "/lab/api/news") == (200, {"news": []})
    assert server.api("GET", "/lab/api/update") == (200, {"notification": None})


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_student_solves_the_notebook_in_jupyterlab(aid, lab):
    """Typed in as a student would, do the reference answers pass every visible test, draw every figure,
    predict the digits 1-5 and pass nbgrader's Validate, in JupyterLab in Chromium?"""
    server, page, root = lab["server"], lab["page"], lab["root"]
    path = root / aid / f"{aid}.ipynb"
    release, solution = read(path), read(solution_path(aid))
    assert [c.id for c in release.cells] == [c.id for c in solution.cells]
    # The answers: code (the reference solution) and the written answers (the marking notes stand in for them).
    answers = {i: solved_source(c) if is_answer(c) else c.source
               for i, c in enumerate(solution.cells) if is_answer(c) or is_manual(c)}
    expected_sources = [answers.get(i, c.source) for i, c in enumerate(release.cells)]
    timings = TIMINGS.setdefault(aid, {})
    clock = time.monotonic()

    def lap(step):
        nonlocal clock
        now = time.monotonic()
        timings[step] = now - clock
        clock = now

    try:
        # 1. open; instructor menus absent, Validate present
        panel = open_notebook(page, server, f"{aid}/{aid}.ipynb", len(release.cells))
        check_student_mode_ui(page)
        lap("open")

        # 2. type every answer into its cell, save, and check the file holds exactly the solution
        for index, text in answers.items():
            type_cell(page, panel, index, text)
        save(page)
        deadline, on_disk = time.monotonic() + 30, None
        while time.monotonic() < deadline:
            on_disk = [c.source for c in read(path).cells]
            if on_disk == expected_sources:
                break
            time.sleep(0.3)
        wrong = [(i, nbgrader_meta(release.cells[i]).get("grade_id")) for i in range(len(expected_sources))
                 if on_disk[i] != expected_sources[i]]
        assert not wrong, (f"after typing and saving, these cells differ from the solution: {wrong}; first one:\n"
                           f"--- typed\n{on_disk[wrong[0][0]]}\n--- expected\n{expected_sources[wrong[0][0]]}")
        lap("type and save")

        # 3. Kernel > Restart Kernel and Run All Cells; wait until the kernel is idle
        restart_and_run_all(page)
        state = wait_run_finished(page)
        lap("restart and run all")

        # 4. no error, every visible test passed, every figure drawn, digits 1-5 predicted
        cells = rendered_cells(page)
        assert len(cells) == len(release.cells)
        errors = [(i, o["text"][-1500:]) for i, c in enumerate(cells) for o in c["outputs"] if o["mime"] == STDERR]
        assert not errors, f"output on stderr (errors or warnings) in cells {[i for i, _ in errors]}:\n{errors[0][1]}"
        code = [i for i, c in enumerate(release.cells) if c.cell_type == "code"]
        assert state["prompts"] == [f"[{n}]:" for n in range(1, len(code) + 1)], \
            f"the code cells did not all run once, in order: {state['prompts']}"
        text = {i: "".join(o["text"] for o in cells[i]["outputs"]) for i in code}
        tests = [i for i, c in enumerate(release.cells) if is_test(c)]
        assert [nbgrader_meta(release.cells[i - 1])["grade_id"] for i in tests] == GRADED[aid]
        for i in tests:
            name = nbgrader_meta(release.cells[i])["grade_id"].removeprefix("test_")
            assert passed_visibly(name, text[i]), f"test_{name} did not print its success line:\n{text[i][-1500:]}"
        assert sum(t.count(MARKER) for t in text.values()) == len(tests)
        drawn = {i: [img for o in cells[i]["outputs"] for img in o["images"]] for i in code}
        expected_figures = {i: figures_drawn(release.cells[i].source) for i in code}
        assert sum(expected_figures.values()) > 0
        for i in code:
            assert len(drawn[i]) == expected_figures[i], \
                f"cell {i} should show {expected_figures[i]} figure(s), shows {len(drawn[i])} image(s)"
            for complete, width, height in drawn[i]:
                assert complete and width > 100 and height > 100, \
                    f"cell {i}: an image did not render ({width}x{height})"
        FIGURES[aid] = sum(len(d) for d in drawn.values())
        pattern, count = PREDICTIONS[aid]
        found = re.findall(pattern, "\n".join(text.values()))
        assert len(found) == count, f"expected {count} prediction outputs matching {pattern!r}, found {found}"
        if aid == "02_softmax_comparison":
            assert found == ["5"] * count, f"not every network recognises the 5 training digits: {found}"
        else:
            assert all(f.split() == ["1", "2", "3", "4", "5"] for f in found), f"predictions: {found}"

        # 5. Validate
        classes, message = validate(page)
        assert "validation-success" in classes.split(), f"Validate did not report success:\n{message[:3000]}"
        assert "Success! Your notebook passes all the tests." in message
        lap("validate")

        # 6. a screenshot of the whole notebook
        screenshot_notebook(page, ARTIFACTS / f"{aid}.png")
        lap("screenshot")
    except BaseException:
        _failure_screenshot(page, ARTIFACTS / f"{aid}-failed.png")
        raise
    finally:
        server.remember_children()
        server.shut_down_kernels()


def _failure_screenshot(page, path):
    try:
        page.screenshot(path=str(path), timeout=10_000)
    except Exception:  # noqa: BLE001 (a screenshot must not hide the real failure)
        pass


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_blank_release_stops_at_the_first_answer(aid, lab):
    """Run as shipped, does each release notebook stop at its first test cell, whose check says the stub raised
    NotImplementedError (the function is not written yet)?"""
    server, page, root = lab["server"], lab["page"], lab["root"]
    blank = root / "blank" / aid / f"{aid}.ipynb"
    blank.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "notebooks" / aid / f"{aid}.ipynb", blank)
    release = read(blank)
    started = time.monotonic()
    try:
        open_notebook(page, server, f"blank/{aid}/{aid}.ipynb", len(release.cells))
        click_menu(page, "Run", "Run All Cells")
        state = wait_run_finished(page)
        cells = rendered_cells(page)
        first = next(i for i, c in enumerate(release.cells) if is_answer(c))
        name = nbgrader_meta(release.cells[first])["grade_id"]
        stopped = first + 1  # the answer cell only defines the function; its test cell calls it
        errors = [i for i, c in enumerate(cells) for o in c["outputs"] if o["mime"] == STDERR]
        assert errors == [stopped], f"expected one error, in the test cell after {name}; errors in cells {errors}"
        traceback = "".join(o["text"] for o in cells[stopped]["outputs"] if o["mime"] == STDERR)
        count = re.fullmatch(r"\[(\d+)\]:", cells[first]["prompt"])
        assert count, f"the first answer cell ({name}) did not run: prompt {cells[first]['prompt']!r}"
        # the check calls the stub and says, first, that the function is not written yet
        assert "AssertionError" in traceback and f"{name}（可见测试）未通过：{name} 还没有实现" in traceback \
            and "NotImplementedError" in traceback, f"not the check's not_implemented message:\n{traceback[-1500:]}"
        code = [i for i, c in enumerate(release.cells) if c.cell_type == "code"]
        ran = [i for i in code if re.fullmatch(r"\[\d+\]:", cells[i]["prompt"])]
        assert ran == [i for i in code if i <= stopped], f"cells that ran: {ran}; the run must stop at cell {stopped}"
        assert state["status"] == "idle"
    except BaseException:
        _failure_screenshot(page, ARTIFACTS / f"{aid}-blank-failed.png")
        raise
    finally:
        server.remember_children()
        server.shut_down_kernels()
        TIMINGS.setdefault(aid, {})["blank run"] = time.monotonic() - started


def test_interface_switches_to_simplified_chinese(lab):
    """Can a student switch JupyterLab to Simplified Chinese (Settings > Language), with Validate still there?"""
    server, page, root = lab["server"], lab["page"], lab["root"]
    path = root / "01_relu_network" / "01_relu_network.ipynb"
    try:
        open_notebook(page, server, "01_relu_network/01_relu_network.ipynb", len(read(path).cells))
        choose_language(page, "Chinese (Simplified, China) - 中文 (简体, 中国)")
        page.wait_for_function("""() => Array.from(document.querySelectorAll('#jp-menu-panel .lm-MenuBar-itemLabel'))
                                         .some(e => e.textContent === '文件')""", timeout=60_000)
        menus = menu_bar_labels(page)
        assert menus[:5] == ["文件", "编辑", "查看", "运行", "内核"], f"menu bar in Chinese: {menus}"
        page.wait_for_selector(f"{PANEL} .jp-NotebookPanel-toolbar .validate-button")
        assert not notification_toasts(page)
    except BaseException:
        _failure_screenshot(page, ARTIFACTS / "language-failed.png")
        raise
    finally:  # back to the default language for whatever runs next, and no kernel left running
        server.api("PUT", "/lab/api/settings/@jupyterlab/translation-extension:plugin", {"raw": "{}"})
        server.remember_children()
        server.shut_down_kernels()
