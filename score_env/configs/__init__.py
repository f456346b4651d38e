"""The YAML presets, shipped inside the package so `score-env` finds them after `pip install`."""
