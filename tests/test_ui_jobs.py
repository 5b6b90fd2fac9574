"""AppTest of the box a page shows while its jobs run (ui/jobs.py)."""

from streamlit.testing.v1 import AppTest


def page_waiting_on_a_running_job():
    """A page that waits on one job that has started and does not end while the page is drawn."""
    from types import SimpleNamespace

    import streamlit as st

    import ui.jobs as jobs
    from mia_core.service import Progress

    class Running:
        submitted = 0.0
        kept = False
        runner = SimpleNamespace(executor_name="inline")

        def done(self):
            return False

        def place(self):
            return 0

        def progress(self):
            return Progress(step=34, total=150, stage="training")

    jobs._served = lambda: True  # as under a real server: the browser, not the script, reruns the box
    st.session_state[jobs.WAITING] = {"run": jobs.Waiting([Running()], ["Training"])}
    jobs.finished("run")


def test_the_box_of_a_running_job_says_it_is_running_not_done():
    at = AppTest.from_function(page_waiting_on_a_running_job, default_timeout=30).run()
    assert not at.exception
    [box] = at.status
    assert box.label == "Training" and box.state == "running"
    assert "Running on the inline executor." in [c.value for c in box.caption]
