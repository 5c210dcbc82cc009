"""Per-page sections, named after their page: views/X.py imports ui.sections.X as `section`."""
