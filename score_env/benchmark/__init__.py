"""``score-env benchmark``: every correction method trained with the same budget, evaluated side by side, reported."""
