"""Streamlit entry point of the team dashboard (``analysis dashboard``)."""

from analysis.dashboard import main

main()
