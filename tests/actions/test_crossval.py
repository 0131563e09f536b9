"""bot.tools.crossval: held-out folds are scored with the pipeline's features."""
from bot.tools.crossval import cross_validate, load_examples
from bot import PROJECT_ROOT


def test_separable_intents_are_learned_from_other_folds():
    money = [f"お金が{n}円しかなくて家賃が払えません" for n in range(10, 30)]
    child = [f"{n}歳の子どもが学校に行きたがりません" for n in range(3, 23)]
    result = cross_validate(money + child, ["worry_poverty"] * 20 + ["worry_child"] * 20, folds=2)
    assert result["examples"] == 40
    assert result["accuracy"] >= 0.9
    assert set(result["f1"]) == {"worry_poverty", "worry_child"}


def test_examples_load_normalised_from_the_project():
    examples = load_examples(PROJECT_ROOT / "data" / "nlu")
    assert len(examples) > 1000
    assert all(text == text.strip() and "　" not in text for text, _ in examples[:500])
