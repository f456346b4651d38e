"""One YAML file per agent: `agent=<name>` loads `<name>.yaml`."""
