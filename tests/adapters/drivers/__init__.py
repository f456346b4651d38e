"""One driver per engine: plays a case through the engine's real package with a script in place of a model."""
