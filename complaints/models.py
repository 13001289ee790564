"""Filled by its workflow issue; the app exists so the layout matches the design card."""
