"""Training runs: the one setup (``run.train_agent``), the session (optimizer, logging, checkpoints), checkpoint
files, the SFT update loop and the :class:`~score_env.training.agent.Agent` seam. The math is in ``learner``."""
