"""A workshop on one server: attendees in headless Chromium against `streamlit run app.py` on a fresh store.

    python -m benchmarks.workshop_load [--sessions 4] [--port 8501]

Prints, from one run:
- one session pressing "Train and attack" on the Defences page alone: seconds;
- `--sessions` sessions pressing it with identical settings: seconds until all are done, and the ratio to one
  alone (they share one job);
- as many sessions with different settings (other seeds): the same (their jobs share the worker processes);
  `--no-different` leaves this phase out;
- for each phase, the CPU seconds the server, its workers and this run's browsers used, per session, and the
  1-minute load average before and after (other work on the machine shows there);
- during the two phases with many sessions, the Membership page's answer to a new digit (a stroke added on the
  canvas every PACE seconds, in one more session): median and maximum seconds;
- the peak memory of the server and of its worker processes.

Each phase uses seeds no earlier phase used, so no phase is answered from another's kept results.
Needs Debian's chromium and Playwright (requirements-dev.txt).
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import test_browser  # noqa: E402
from test_browser import CHROMIUM, FLAGS, app_server, wait_ready  # noqa: E402  (one way to start and wait)

from benchmarks.procfs import children, cpu_seconds  # noqa: E402

DONE = "[data-testid='stMetric']"  # the Defences page's metrics: shown once a run is done
PACE = 2.0  # seconds between two drawn digits: an attendee drawing one digit after another
LIMIT_S = 60  # a digit not answered within this counts as unanswered


def tree_peak_mb(pid: int) -> dict[str, float]:
    """Peak resident memory (VmHWM) of the server and, summed, of its child processes (the workers)."""
    def peak(p: int) -> float:
        try:
            line = next(x for x in Path(f"/proc/{p}/status").read_text().splitlines() if x.startswith("VmHWM"))
            return int(line.split()[1]) / 1024
        except (OSError, StopIteration):
            return 0.0

    return {"server": peak(pid), "workers": sum(peak(c) for c in children(pid))}


def cpu_by_kind(server: int) -> dict[str, float]:
    """CPU seconds so far of the server, its workers, and this run's Chromium processes (the attendees' browsers;
    not those of anything else on the machine)."""
    def is_browser(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/comm").read_text().startswith("chrom")
        except OSError:  # it has just exited
            return False

    browsers = [p for p in children(os.getpid()) if is_browser(p)]
    return {"server": cpu_seconds(server), "workers": sum(cpu_seconds(c) for c in children(server)),
            "browsers": sum(cpu_seconds(b) for b in browsers)}


def load_average() -> float:
    return os.getloadavg()[0]


def server_pid(url: str) -> int | None:
    """The `streamlit run` process serving `url` (found by its --server.port)."""
    port = url.rsplit(":", 1)[1]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(words) and port.encode() in words:
            return int(cmdline.parent.name)
    return None


def press_train(browser, url: str, seed: int):
    page = browser.new_context(viewport={"width": 1300, "height": 1800}).new_page()
    page.goto(f"{url}/defences?seed={seed}")
    wait_ready(page)
    return page


# Run in each page before its button is pressed: the page notes the moment its result first shows (Date.now(), in ms),
# so that the loop below can look at the pages only once a second and still time each to the millisecond. This loop
# stands in for attendees looking at their screens: asking each browser for its page five times a second would itself
# keep the browsers (and Playwright's driver) busy on the cores the job needs.
NOTE_DONE = """selector => {
    window.doneAt = 0;
    const note = () => { if (!window.doneAt && document.querySelector(selector)) window.doneAt = Date.now(); };
    new MutationObserver(note).observe(document.body, {childList: true, subtree: true});
}"""
LOOK_EVERY_S = 1.0


def run_phase(browser, url: str, seeds: list[int], on_wait=None, server: int | None = None) -> tuple[float, dict]:
    """Open one session per seed, press "Train and attack" in each, and time until every one shows its result.
    With the `server`'s pid: the CPU seconds each kind of process used meanwhile, too."""
    pages = [press_train(browser, url, seed) for seed in seeds]
    for page in pages:
        page.evaluate(NOTE_DONE, DONE)
    before = cpu_by_kind(server) if server else {}
    start = time.time()
    for page in pages:
        page.get_by_role("button", name="Train and attack").click()
    done_at: dict[int, float] = {}
    looked = 0.0
    while len(done_at) < len(pages):
        if time.time() - looked >= LOOK_EVERY_S:
            looked = time.time()
            for i, page in enumerate(pages):
                if i not in done_at and (ms := page.evaluate("window.doneAt")):
                    done_at[i] = ms / 1000
        if on_wait:
            on_wait()  # the probe draws at its own pace (PACE)
        time.sleep(0.2)
    seconds = max(done_at.values()) - start
    after = cpu_by_kind(server) if server else {}
    for page in pages:
        page.context.close()
    return seconds, {kind: after[kind] - before[kind] for kind in after}


def report(what: str, seconds: float, cpu: dict, sessions: int, load: tuple[float, float], alone: float | None = None,
           asked: str = "") -> None:
    ratio = f" = {seconds / alone:.2f}x one alone{asked}" if alone else ""
    print(f"{what}: {seconds:.1f} s{ratio}; CPU seconds per session: "
          + ", ".join(f"{kind} {used / sessions:.1f}" for kind, used in cpu.items())
          + f" (cores used: {sum(cpu.values()) / seconds:.2f}); load average {load[0]:.1f} before, {load[1]:.1f} after",
          flush=True)


class MembershipProbe:
    """A session on the Membership page drawing: each call adds a stroke, so the page answers for a new digit,
    and records the seconds from the end of the stroke to the page showing its answer."""

    def __init__(self, browser, url: str):
        self.page = browser.new_context(viewport={"width": 1300, "height": 1800}).new_page()
        self.page.goto(f"{url}/membership?digit=draw")
        wait_ready(self.page)
        self.times: list[float] = []
        self.strokes, self.last = 0, 0.0

    def image(self) -> str | None:
        shown = self.page.locator("[data-testid='stImage'] img")
        return shown.first.get_attribute("src") if shown.count() else None

    def __call__(self) -> None:
        if self.times and time.perf_counter() - self.last < PACE:
            return
        box = self.page.locator("canvas.upper-canvas").first.bounding_box()
        x = box["x"] + box["width"] * (0.3 + 0.05 * (self.strokes % 9))
        before = self.image()
        self.page.mouse.move(x, box["y"] + box["height"] * 0.2)
        self.page.mouse.down()
        self.page.mouse.move(x + 4, box["y"] + box["height"] * 0.8, steps=6)
        self.page.mouse.up()
        self.strokes += 1
        start = time.perf_counter()
        try:
            self.page.wait_for_function("old => { const i = document.querySelector(\"[data-testid='stImage'] img\");"
                                        " return i && i.src !== old; }", arg=before, timeout=LIMIT_S * 1000, polling=50)
            wait_ready(self.page, LIMIT_S)
            self.times.append(time.perf_counter() - start - 0.5)  # wait_ready settles for 0.5 s after the run
        except PlaywrightTimeout:
            self.times.append(float("inf"))  # no answer within LIMIT_S
        self.last = time.perf_counter()

    def summary(self) -> str:
        times, self.times = self.times, []
        if not times:
            return "no digit drawn"
        late = sum(t == float("inf") for t in times)
        return (f"median {statistics.median(times):.2f} s, max "
                + (f"over {LIMIT_S} s ({late} unanswered)" if late else f"{max(times):.2f} s")
                + f" over {len(times)} digits (asked: median < 1 s)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--port", type=int, default=None, help="the server's port (default: any free one)")
    parser.add_argument("--no-different", action="store_true", help="leave out the phase with different settings")
    args = parser.parse_args(argv)
    if args.port:
        test_browser.free_port = lambda: args.port
    if CHROMIUM is None:
        print("needs Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    store = tempfile.mkdtemp(prefix="workshop-store-")
    n = args.sessions
    try:
        with app_server({"MIA_STORE_DIR": store}) as url, sync_playwright() as p:
            pid = server_pid(url)
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            load = load_average()
            alone, cpu = run_phase(browser, url, [1000], server=pid)
            report("one session alone", alone, cpu, 1, (load, load_average()))
            probe = MembershipProbe(browser, url)
            probe()  # warm: the models load once per server
            probe.times.clear()
            load = load_average()
            same, cpu = run_phase(browser, url, [2000] * n, on_wait=probe, server=pid)
            report(f"{n} sessions, identical settings", same, cpu, n, (load, load_average()), alone,
                   " (asked: <= 1.3x)")
            print(f"Membership page, a new digit meanwhile: {probe.summary()}", flush=True)
            if not args.no_different:
                load = load_average()
                different, cpu = run_phase(browser, url, [3000 + i for i in range(n)], on_wait=probe, server=pid)
                report(f"{n} sessions, different settings", different, cpu, n, (load, load_average()), alone)
                print(f"Membership page, a new digit meanwhile: {probe.summary()}", flush=True)
            browser.close()
            if pid:
                peaks = tree_peak_mb(pid)
                print(f"peak memory: server {peaks['server']:.0f} MB, worker processes {peaks['workers']:.0f} MB "
                      f"together ({os.cpu_count()} cores)")
    finally:
        shutil.rmtree(store, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
