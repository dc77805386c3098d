"""pytest settings shared by the unit tests and nbval runs of the chapters."""


def pytest_collectstart(collector):
    # nbval: compare only what a notebook computes, not warnings or logs written to stderr,
    # nor HTML/JS reprs that embed ids.
    if getattr(collector, "fspath", None) is not None and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr", "text/html", "application/javascript", "image/png", "image/svg+xml")
