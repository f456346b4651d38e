"""Fixtures of the core's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def no_model_loading(monkeypatch):
    from score_env.policies import factory

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the mistake was reported")

    monkeypatch.setattr(factory, "load_model_and_tokenizer", refuse)
