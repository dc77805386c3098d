"""The course around the notebooks: running them headless, the index page, the CLI."""
