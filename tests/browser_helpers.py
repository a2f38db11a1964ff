"""Helpers of the browser test (tests/test_browser.py): a JupyterLab server in student mode,
started by a student kit's ``start_lab.py``, Debian's Chromium driven by Playwright, and what a
student does in a notebook, in the interface's default language (Simplified Chinese).

Processes are owned by PID: the server is started in its own session (so its process group
can be killed) and the browser's main process is found among this process's descendants by
its unique ``--user-data-dir``. Both are stopped by PID, whatever state the test is in.
"""

import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import psutil

ROOT = pathlib.Path(__file__).resolve().parent.parent

#: Debian's ``chromium`` package; Playwright never downloads a browser here.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium",)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 900}

#: What the current notebook is, in the DOM: the main-area notebook panel that is not hidden.
PANEL = "#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)"

#: The words the helpers click and read, as a student sees them: student mode starts JupyterLab in
#: Simplified Chinese (student_mode/labconfig/default_setting_overrides.json). Taken from the running
#: interface (jupyterlab-language-pack-zh-CN 4.5 on JupyterLab 4.6); nbgrader's own words (Validate,
#: Validation Results) are not translated.
ZH = {
    "File": "文件", "Edit": "编辑", "View": "查看", "Run": "运行", "Kernel": "内核", "Tabs": "标签页",
    "Settings": "设置", "Help": "帮助", "Language": "语言",
    "Run All Cells": "运行所有单元格",
    "Restart Kernel and Run All Cells…": "重启内核 和 运行所有单元格…",
    "Restart Kernel?": "重启内核？",
}
#: The menu bar in each language, as JupyterLab shows it.
MENU_BAR = {"zh_CN": [ZH[m] for m in ("File", "Edit", "View", "Run", "Kernel", "Tabs", "Settings", "Help")],
            "en": ["File", "Edit", "View", "Run", "Kernel", "Tabs", "Settings", "Help"]}


def find_chromium():
    """The path of Debian's Chromium, or None."""
    for path in (*CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_tree(pid):
    """``pid``, its descendants and the other members of its process group, as psutil.Process objects.

    psutil remembers each process's start time, so a later signal can never reach an unrelated
    process that happens to get one of these PIDs again.
    """
    try:
        root = psutil.Process(pid)
        procs = {root.pid: root, **{c.pid: c for c in root.children(recursive=True)}}
    except psutil.NoSuchProcess:
        return []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pid:
                procs.setdefault(proc.pid, proc)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return list(procs.values())


def kill_all(procs):
    """SIGKILL each of ``procs`` that is still running (the very process noted, not a reused PID)."""
    for proc in procs:
        try:
            if proc.is_running():
                proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs([p for p in procs if p.pid != os.getpid()], timeout=5)


# --- the server -------------------------------------------------------------------------------------------------------

class LabServer:
    """A student kit's ``start_lab.py`` (``root/start_lab.py``, what a student runs) serving the kit
    folder ``root`` on a loopback port, with a token, run by this Python (the project's venv).

    The script chooses the folder it serves and the server's working folder itself: it is started
    from ``home``, and given no ``--ServerApp.root_dir``. Every Jupyter directory that could hold a
    developer's own settings, kernels or workspaces points into ``home`` (a scratch folder), so only
    the kit's student-mode configuration applies.
    """

    def __init__(self, root, home, log_path):
        self.root, self.home, self.log_path = pathlib.Path(root), pathlib.Path(home), pathlib.Path(log_path)
        self.script = self.root / "start_lab.py"
        self.token = secrets.token_hex(16)
        self.port = self.url = self.proc = None
        self._log = None
        self._seen = []  # every process of the server seen so far (its kernels run in sessions of their own)

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
        for name, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                          ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
                          ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"), ("IPYTHONDIR", "ipython")]:
            (self.home / sub).mkdir(parents=True, exist_ok=True)
            env[name] = str(self.home / sub)
        env["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), env.get("PATH", "")])
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def command(self):
        return [sys.executable, str(self.script), "--no-browser",
                "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                # A safety net only: should this process die without stopping it, the server quits on its own.
                "--ServerApp.shutdown_no_activity_timeout=900"]

    def start(self, timeout=120, attempts=3):
        """Start the server and wait until it answers. With port_retries=0 it exits if another process took
        the free port in the meantime: then it is started again on another one."""
        self._log = open(self.log_path, "w", encoding="utf-8")
        for attempt in range(attempts):
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            # Its own session and process group: nothing it starts shares the test's terminal signals.
            # On POSIX start_lab.py execs the server, so this PID is the server's.
            self.proc = subprocess.Popen(self.command(), cwd=self.home, env=self.env(), stdout=self._log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.api("GET", "/api/status")[0] == 200:
                        return self
                except OSError:
                    pass
                time.sleep(0.3)
            if self.proc.poll() is None:
                raise RuntimeError(f"JupyterLab did not answer on {self.url} within {timeout} s:\n{self.log()}")
            if "already in use" not in self.log() or attempt == attempts - 1:
                raise RuntimeError(f"JupyterLab exited with code {self.proc.returncode}:\n{self.log()}")
            self.proc = None
        raise AssertionError("unreachable")

    def log(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-5000:] if self.log_path.exists() else ""

    def api(self, method, path, body=None):
        """(status, parsed JSON or text) of a request to the server, authenticated with the token."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read().decode(errors="replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def remember_children(self):
        """Note the server's processes now (kernels included), so that stop() reaches them even if they outlive it."""
        if self.proc is not None:
            self._seen += process_tree(self.proc.pid)

    def shut_down_kernels(self):
        """Shut down every kernel through the REST API (a student would close the notebook)."""
        status, sessions = self.api("GET", "/api/sessions")
        for session in sessions if status == 200 else []:
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def stop(self):
        """Stop the server by PID: SIGTERM (it shuts its kernels down and exits), SIGKILL after 15 s;
        then SIGKILL whatever of its processes, seen now or earlier, is still running."""
        if self.proc is None:
            return
        self.remember_children()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        kill_all(self._seen)
        self.proc = None
        self._log.close()


# --- the browser ------------------------------------------------------------------------------------------------------

class Browser:
    """Debian's Chromium, launched by Playwright with a fresh profile; its main process is known by PID."""

    def __init__(self, executable, profile_dir):
        self.executable, self.profile_dir = executable, str(profile_dir)
        self.playwright = self.context = self.page = None
        self.pid = None
        self._driver = []  # Playwright's driver process (node), which launched Chromium

    def start(self):
        from playwright.sync_api import sync_playwright

        self.playwright = sync_playwright().start()
        self._driver = [p for p in psutil.Process().children() if "run-driver" in " ".join(p.cmdline())]
        self.context = self.playwright.chromium.launch_persistent_context(
            self.profile_dir, executable_path=self.executable, headless=True, args=CHROMIUM_ARGS,
            viewport=VIEWPORT, locale="en-US", timeout=60_000)
        self.pid = self._main_pid()
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.set_default_timeout(30_000)
        # Leaving a notebook with unsaved outputs asks "leave the page?": yes.
        self.page.on("dialog", lambda dialog: dialog.accept())
        return self

    def _main_pid(self):
        """The browser's main process: a descendant of this process, leader of its own group, with our profile."""
        flag = f"--user-data-dir={self.profile_dir}"
        for proc in psutil.Process().children(recursive=True):
            try:
                if flag in proc.cmdline() and os.getpgid(proc.pid) == proc.pid:
                    return proc.pid
            except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
                continue
        raise RuntimeError(f"cannot find the Chromium process started with {flag}")

    def stop(self):
        """Note the browser's processes, close it, SIGKILL by PID whatever is left, then stop Playwright."""
        procs = process_tree(self.pid) if self.pid is not None else []
        try:
            if self.context is not None:
                self.context.close()
        except Exception:  # noqa: BLE001 (the browser may already be dead: the kill below is what counts)
            pass
        kill_all(procs)
        try:
            if self.playwright is not None:
                self.playwright.stop()
        except Exception:  # noqa: BLE001
            pass
        kill_all(self._driver)
        self.context = self.page = self.playwright = None


# --- what the student does --------------------------------------------------------------------------------------------

def open_notebook(page, server, path, n_cells, timeout=60_000):
    """Open ``path`` in a fresh workspace (``reset``); wait for its ``n_cells`` cells and an idle kernel."""
    page.goto(f"{server.url}/lab/tree/{path}?reset&token={server.token}")
    page.wait_for_function(
        """([sel, n]) => { const p = document.querySelector(sel);
                           return p && p.querySelectorAll('.jp-Notebook .jp-Cell').length === n; }""",
        arg=[PANEL, n_cells], timeout=timeout)
    wait_kernel_idle(page, timeout)
    return page.locator(PANEL)


def wait_kernel_idle(page, timeout=60_000):
    page.wait_for_selector(f"{PANEL} .jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status=idle]",
                           state="attached", timeout=timeout)


def notification_toasts(page):
    """The texts of the notifications on screen (nothing should pop up in student mode)."""
    return page.locator(".jp-Notification-Toast, .Toastify__toast").all_text_contents()


def menu_bar_labels(page):
    return [t.strip() for t in page.locator("#jp-menu-panel .lm-MenuBar-itemLabel").all_text_contents()]


def wait_menu_bar(page, language, timeout=60_000):
    """Wait until the menu bar's first menu is in ``language`` ("zh_CN" or "en", as MENU_BAR); return its labels."""
    page.wait_for_function("""(first) => Array.from(document.querySelectorAll('#jp-menu-panel .lm-MenuBar-itemLabel'))
                                         .some(e => e.textContent === first)""",
                           arg=MENU_BAR[language][0], timeout=timeout)
    return menu_bar_labels(page)


def sidebar_tab_titles(page):
    """The titles (labels and tooltips) of the left and right sidebar tabs."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.jp-SideBar .lm-TabBar-tab')).map(t =>
        [t.getAttribute('title') || '', t.textContent.trim(), t.getAttribute('data-id') || ''].join(' | '))""")


def palette_items(page, query, attempts=3):
    """The command palette's items for ``query`` (Ctrl+Shift+C opens it, Escape closes it).

    The palette closes when it loses the focus, which a notebook that has just opened can still
    take (first visit of a server): then it is opened again. Items are read only from a palette
    still open with ``query`` typed, so an empty answer means that nothing matched.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    box = page.locator(".lm-CommandPalette-input")
    for attempt in range(attempts):
        page.keyboard.press("Control+Shift+c")
        try:
            box.wait_for(state="visible", timeout=5_000)
            box.fill(query, timeout=5_000)
            page.wait_for_timeout(300)
            items = page.locator(".lm-CommandPalette-item .lm-CommandPalette-itemLabel").all_text_contents()
            headers = page.locator(".lm-CommandPalette-header").all_text_contents()
            if box.is_visible() and box.input_value() == query:
                break
        except PlaywrightTimeoutError:
            pass
        if attempt == attempts - 1:
            raise AssertionError(f"the command palette did not stay open for {query!r} ({attempts} attempts)")
        page.keyboard.press("Escape")
        page.wait_for_timeout(500)
    page.keyboard.press("Escape")
    box.wait_for(state="hidden")
    return items, headers


def type_cell(page, panel, index, text):
    """Click into cell ``index``'s editor, select everything and type ``text`` line by line, as a student would.

    Enter is a real key press, so CodeMirror does what it does for a student: in code it indents
    the new line, in Markdown it continues a numbered list ("2. "). Whatever it inserted is then
    selected (Shift+Home) and replaced by the line as written, so the cell ends up holding exactly
    ``text`` (the test checks that on disk). An empty line is typed as a space and deleted again.
    Each line arrives as one text input (``insert_text``), so auto-closing brackets never fire.
    """
    cell = panel.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.scroll_into_view_if_needed()
    if "jp-MarkdownCell" in (cell.get_attribute("class") or ""):
        cell.click()                       # a rendered written answer: select it, Enter opens its editor
        page.keyboard.press("Enter")
        cell.locator(".cm-content").wait_for(state="visible")
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    for k, line in enumerate(text.split("\n")):
        if k:
            page.keyboard.press("Enter")
            page.keyboard.press("Shift+Home")
        if line:
            page.keyboard.insert_text(line)
        elif k:
            page.keyboard.insert_text(" ")
            page.keyboard.press("Backspace")
        else:
            page.keyboard.press("Delete")
    page.keyboard.press("Escape")  # back to command mode


def save(page):
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")


def _menu_item(page, label):
    return page.locator(".lm-Menu:visible .lm-Menu-item").filter(
        has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(label)}$")))


def click_menu(page, menu, item, submenu=None):
    """Open the menu bar's ``menu`` and click its ``item`` (exact label, ellipsis included), or the
    ``submenu`` entry of the submenu ``item``."""
    page.locator("#jp-menu-panel .lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
    if submenu is None:
        _menu_item(page, item).click()
    else:
        _menu_item(page, item).hover()
        _menu_item(page, submenu).click()


RUN_STARTED = """(sel) => Array.from(document.querySelector(sel).querySelectorAll(
    '.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')).some(p => p.textContent.trim() !== '[ ]:')"""


def run_all_cells(page, attempts=3):
    """Run > Run All Cells (运行 > 运行所有单元格) in a notebook none of whose cells has run yet.

    Right after a notebook (and its new kernel) opens, the click can do nothing: no cell gets queued.
    So the notebook is selected first, and the command is given again if no cell shows ``[*]`` or a
    count within 10 s (nothing ran, so running all again changes nothing).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for _ in range(attempts):
        page.locator(PANEL).locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputPrompt").click()
        click_menu(page, ZH["Run"], ZH["Run All Cells"])
        try:
            page.wait_for_function(RUN_STARTED, arg=PANEL, timeout=10_000)
            return
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    raise AssertionError(f"Run All Cells started no cell ({attempts} attempts)")


def restart_and_run_all(page):
    """Kernel > Restart Kernel and Run All Cells… (内核 > 重启内核 和 运行所有单元格…), and confirm the restart."""
    click_menu(page, ZH["Kernel"], ZH["Restart Kernel and Run All Cells…"])
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(state="visible")
    assert ZH["Restart Kernel?"] in dialog.text_content()
    dialog.locator("button.jp-mod-accept").click()
    dialog.wait_for(state="detached")


RUN_STATE = """(sel) => {
    const panel = document.querySelector(sel);
    const status = panel.querySelector('.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator')
                        .getAttribute('data-status');
    const prompts = Array.from(panel.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt'))
                         .map(p => p.textContent.trim());
    const errors = panel.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').length;
    return {status, prompts, errors};
}"""


def wait_run_finished(page, timeout=180):
    """Wait until the kernel is idle and no cell is queued or running, after a run has started.

    Done means: every code cell shows an execution count, or an error stopped the run; and the
    state holds for a second (the kernel is briefly idle between the restart and the first cell).
    Returns the final state: kernel status, the code cells' prompts, the number of error outputs.
    """
    deadline = time.monotonic() + timeout
    stable_since, state = None, None
    while time.monotonic() < deadline:
        state = page.evaluate(RUN_STATE, PANEL)
        counted = all(re.fullmatch(r"\[\d+\]:", p) for p in state["prompts"])
        done = (state["status"] == "idle" and not any("*" in p for p in state["prompts"])
                and (counted or state["errors"] > 0))
        if done:
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since >= 1.0:
                return state
        else:
            stable_since = None
        time.sleep(0.25)
    raise AssertionError(f"the run did not finish within {timeout} s; last state: {state}")


CELLS = """(sel) => Array.from(document.querySelector(sel).querySelectorAll('.jp-Notebook .jp-Cell')).map(cell => ({
    type: cell.classList.contains('jp-CodeCell') ? 'code' : 'markdown or raw',
    prompt: (cell.querySelector('.jp-InputArea-prompt') || {textContent: ''}).textContent.trim(),
    outputs: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(o => ({
        mime: o.getAttribute('data-mime-type') || '',
        text: o.textContent,
        images: Array.from(o.querySelectorAll('img')).map(img => [img.complete, img.naturalWidth, img.naturalHeight]),
    })),
}))"""


def rendered_cells(page):
    """Each cell as shown: type, input prompt, and its outputs (MIME type, text, images with their natural size)."""
    return page.evaluate(CELLS, PANEL)


def validate(page, timeout=180_000, before_closing=None):
    """Click nbgrader's Validate button; return (CSS classes, text) of the result dialog's message, and close it
    (after calling ``before_closing()``, e.g. a screenshot of the dialog, if given)."""
    page.locator(f"{PANEL} .jp-NotebookPanel-toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(state="visible", timeout=timeout)
    text = dialog.text_content()
    # nbgrader's other answers: "Validation failed" (the notebook could not be saved or validated), "Version Mismatch".
    assert "Validation Results" in text, f"Validate answered with another dialog: {text[:2000]}"
    message = dialog.locator("#validation-message")
    result = (message.get_attribute("class") or "", message.text_content())
    if before_closing is not None:
        before_closing()
    dialog.locator("button.jp-mod-accept").click()
    dialog.wait_for(state="detached")
    return result


def screenshot_notebook(page, path):
    """A screenshot of the whole notebook (up to 30,000 pixels high): the window is made as tall as
    the notebook, then shot once.

    JupyterLab scrolls inside the notebook panel, so a page screenshot would only show the
    window; making the window tall enough puts every cell on screen (and renders it).
    """
    page.keyboard.press("Escape")
    for toggle in page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").all():
        toggle.click()  # collapse the file browser: more room for the notebook
    inner = page.evaluate(f"""() => {{
        const panel = document.querySelector('{PANEL} .jp-WindowedPanel-outer');
        return {{scroll: panel.scrollHeight, client: panel.clientHeight}};
    }}""")
    height = min(VIEWPORT["height"] + inner["scroll"] - inner["client"] + 40, 30_000)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    try:
        page.wait_for_timeout(500)
        page.evaluate(f"() => document.querySelector('{PANEL} .jp-WindowedPanel-outer').scrollTo(0, 0)")
        page.wait_for_timeout(300)
        page.screenshot(path=str(path), full_page=False, timeout=60_000)
    finally:
        page.set_viewport_size(VIEWPORT)
    return height


def choose_language(page, label, settings=ZH["Settings"], language=ZH["Language"]):
    """Settings > Language > ``label`` (设置 > 语言 > ``label``; for the English menus pass ``settings`` and
    ``language``), and confirm ("Change and reload", 更改并重新加载): JupyterLab reloads."""
    click_menu(page, settings, language, submenu=label)
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(state="visible")
    dialog.locator("button.jp-mod-accept").click()


def cjk_font_available():
    """Does fontconfig know a font for Chinese (else the screenshots show boxes instead of characters)?"""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return False
    out = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True).stdout
    return bool(out.strip())


def fresh_profile_dir(parent):
    return tempfile.mkdtemp(prefix="chromium-profile-", dir=parent)
