"""score-env pretrain: the embedded model's recipe, at toy size; reproducible from its seed."""

from __future__ import annotations

import torch
from safetensors.torch import load_file

from score_env.assets import embedded_model_path
from score_env.cli import main
from score_env.envs.arithmetic_corpus import pretraining_corpus


def test_quick_steps_go_wrong_systematically_on_hard_steps_and_careful_steps_avoid_them():
    import numpy as np

    from score_env.envs.arithmetic_steps import Rates, careful_step, quick_step, step_kind

    always = Rates(easy=0.0, mul=1.0, carry=1.0, borrow=1.0, sign=1.0)
    rng = np.random.default_rng(0)
    # (step, its kind, the one wrong result a quick step writes)
    table = [((7, "*", 8), "mul", "7 * 8 = 48"), ((47, "+", 8), "carry", "47 + 8 = 45"),
             ((52, "-", 8), "borrow", "52 - 8 = 54"), ((3, "-", 72), "sign", "3 - 72 = 69"),
             ((3, "*", 4), "easy", "3 * 4 = 12"), ((40, "+", 9), "easy", "40 + 9 = 49")]  # fmt: skip
    for step, kind, quick in table:
        assert step_kind(*step) == kind
        assert quick_step(*step, rng, always)[0] == quick
        text, value = careful_step(*step, rng, always)  # careful: only easy steps, which never go wrong here
        assert value == eval(f"{step[0]} {step[1]} {step[2]}") and text.count("=") >= 1 + 2 * (kind != "easy")
    assert careful_step(7, "*", 8, rng, always)[0] == "7 * 8 = 8 * 5 + 8 * 2 = 40 + 16 = 56"
    assert careful_step(6, "*", 9, rng, always)[0] == "6 * 9 = 9 * 5 + 9 * 1 = 45 + 9 = 45 + 5 + 4 = 50 + 4 = 54"


def test_attempt_two_never_looks_at_whether_attempt_one_was_right():
    """The second-attempt behaviours appear as often after a right first attempt as after a wrong one."""
    from collections import Counter

    from score_env.envs.arithmetic import evaluate, extract_answer
    from score_env.envs.arithmetic_corpus import CAREFUL, CHECK, REVISE

    def question(c):
        return c[0].content.removeprefix("Compute ").split(".")[0]

    def behaviour(c):
        second = c[3].content
        openings = {CAREFUL: "careful", REVISE: "revise", CHECK: "check"}
        return next((name for opening, name in openings.items() if second.startswith(opening)), "other")

    corpus = pretraining_corpus(4000, seed=1)
    roles = {tuple(m.role for m in c) for c in corpus}
    assert roles == {("user", "assistant") * 2, ("user", "assistant") * 3}  # two attempts, or a verdict, or three
    right = [int(extract_answer(c[1].content)) == evaluate(question(c)) for c in corpus]
    after = {ok: Counter(behaviour(c) for c, r in zip(corpus, right, strict=True) if r == ok) for ok in (True, False)}
    for kind in ("careful", "revise", "check"):
        shares = [after[ok][kind] / sum(after[ok].values()) for ok in (True, False)]
        assert abs(shares[0] - shares[1]) < 0.04, (kind, shares)
    assert 0.3 < sum(right) / len(right) < 0.8  # first attempts are often wrong


def test_pretrain_is_reproducible_from_its_seed(tmp_path):
    argv = ["conversations=40", "hidden_size=32", "layers=1", "heads=2", "epochs=1", "batch_tokens=2048"]
    assert main(["pretrain", f"out={tmp_path / 'a'}", *argv]) == 0
    assert main(["pretrain", f"out={tmp_path / 'b'}", *argv]) == 0
    a, b = load_file(str(tmp_path / "a" / "model.safetensors")), load_file(str(tmp_path / "b" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_the_embedded_model_ships_with_the_package():
    path = embedded_model_path()
    assert (path / "config.json").exists() and (path / "model.safetensors").exists()
    assert (path / "tokenizer.json").exists() and (path / "chat_template.jinja").exists()


def test_the_check_reads_attempt_one_and_rewrites_from_the_first_step_it_calls_wrong():
    import numpy as np

    from score_env.envs.arithmetic_corpus import CHECK, Detection, check, solve
    from score_env.envs.arithmetic_steps import Rates

    rng = np.random.default_rng(0)
    never_wrong = Rates(easy=0.0, mul=0.0, carry=0.0, borrow=0.0, sign=0.0)
    # 7 * 8 = 48: the product systematically wrong, the rest right
    first = solve("3 + 7 * 8", rng, Rates(easy=0.0, mul=1.0, carry=0.0), careful=False)
    assert [s.text for s in first[0]] == ["7 * 8 = 48", "3 + 48 = 51"] and first[1] == 51
    attentive = Detection(miss=0.0, false_alarm=0.0, glance_wrong=1.0, glance_right=0.0)
    (steps, answer), text = check("3 + 7 * 8", first, rng, never_wrong, attentive)  # 56 >= 40: a glance
    assert text == f"{CHECK} 7 * 8 = 48? No: 7 * 8 = 8 * 5 + 8 * 2 = 40 + 16 = 56. 3 + 56 = 59. Answer: 59"
    assert answer == 59 and [s.value for s in steps] == [56, 59]
    small = solve("2 + 6 * 6", rng, Rates(easy=0.0, mul=1.0, carry=0.0), careful=False)  # 6 * 6 = 30; 36 < 40
    (_, answer), text = check("2 + 6 * 6", small, rng, never_wrong, attentive)  # recomputed, compared
    assert text == f"{CHECK} 6 * 6 = 30? 6 * 6 = 6 * 5 + 6 * 1 = 30 + 6 = 36, no. 2 + 36 = 38. Answer: 38"
    right = solve("3 + 7 * 8", rng, never_wrong, careful=False)
    kept, text = check("3 + 7 * 8", right, rng, never_wrong, attentive)  # nothing called wrong: the answer stands
    assert kept == right and text == f"{CHECK} 7 * 8 = 56? Yes. 3 + 56 = 59? Yes. Answer: 59"
    blind = Detection(miss=1.0, false_alarm=0.0, glance_wrong=0.0, glance_right=0.0)
    assert check("3 + 7 * 8", first, rng, never_wrong, blind)[0] == first  # a missed error stays
    assert check("2 + 6 * 6", small, rng, never_wrong, blind)[0] == small  # recomputed, the difference let through
