"""Figures and downloadable files, without Streamlit (and without torch): testable, fast to import."""
