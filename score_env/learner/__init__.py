"""The learner's math, and only that: losses and advantages (``losses``), stages as data (``stages``), training rows
and batches (``batch``), the reference model (``reference``) and the RL loss of a stage (``rl.score_loss``).
Running an update, logging and checkpointing are ``score_env.training``'s."""
