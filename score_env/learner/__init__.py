"""The stage-aware learner: small pure functions named after the paper, composed by ``rl_step`` and ``sft_step``."""
