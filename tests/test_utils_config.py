"""utils.Config: Keras 3's attribute-access config (its docstring's usage), freezing, JSON, mapping behaviour."""

import copy
import json
import pickle

import pytest

from easynn.utils import Config


def test_keras_docstring_usage():
    config = Config(learning_rate=0.1, momentum=0.9)
    config.use_ema = True
    config.ema_overwrite_frequency = 100
    config["seed"] = 123
    assert config.seed == 123 and config["learning_rate"] == 0.1 and config.use_ema is True
    assert dict(config.items()) == {"learning_rate": 0.1, "momentum": 0.9, "use_ema": True,
                                    "ema_overwrite_frequency": 100, "seed": 123}
    assert list(config.keys())[:2] == ["learning_rate", "momentum"] and list(config.values())[-1] == 123
    assert json.loads(config.to_json()) == config.as_dict()


def test_mapping_behaviour():
    config = Config(b=2, a=1)
    assert list(config) == ["a", "b"]  # sorted, as Keras
    assert len(config) == 2 and "a" in config and "z" not in config
    assert config.get("a") == 1 and config.get("z") is None and config.get("z", 5) == 5
    config.update({"c": 3}, d=4)
    assert config.pop("d") == 4 and config.pop("missing", "default") == "default"
    del config["c"]
    del config.b
    assert config.as_dict() == {"a": 1}
    assert repr(config) == "<Config {'a': 1}>"
    snapshot = config.as_dict()
    snapshot["a"] = 99  # as_dict is a copy
    assert config.a == 1


def test_freeze_and_unfreeze():
    config = Config(optimizer="adam")
    assert not config.frozen
    config.freeze()
    assert config.frozen
    for change in (lambda: setattr(config, "optimizer", "sgd"), lambda: config.__setitem__("seed", 1),
                   lambda: config.update(seed=1), lambda: config.pop("optimizer"),
                   lambda: config.__delitem__("optimizer")):
        with pytest.raises(ValueError, match="frozen"):
            change()
    assert config.as_dict() == {"optimizer": "adam"} and config.optimizer == "adam"
    config.unfreeze()
    config.optimizer = "sgd"
    assert config.optimizer == "sgd"


def test_unknown_attribute_suggests_the_closest_name():
    config = Config(learning_rate=0.1)
    with pytest.raises(AttributeError, match="Did you mean 'learning_rate'"):
        _ = config.learning_rat
    with pytest.raises(AttributeError, match="Unknown attribute: 'zzz'.$"):
        _ = config.zzz
    with pytest.raises(AttributeError, match="config\\['keys'\\]"):
        config.keys = 3  # would hide the method
    config["keys"] = 3  # allowed as an item
    assert config["keys"] == 3 and callable(config.keys)


def test_copy_and_pickle():
    config = Config(a=[1, 2])
    config.freeze()
    for clone in (copy.deepcopy(config), pickle.loads(pickle.dumps(config))):
        assert clone.as_dict() == {"a": [1, 2]} and clone.frozen
    shallow = copy.copy(config)
    assert shallow.a is config.a
    shallow.unfreeze()
    shallow.b = 1  # a new entry of the copy only
    assert "b" not in config and config.frozen
