"""optimizers.deserialize: the inverse of serialize, Keras's saved dicts, names, schedules, custom classes."""

import json

import pytest
import torch

from easynn import optimizers
from easynn.optimizers._registry import _CLASSES


@pytest.mark.parametrize("cls", list(_CLASSES.values()), ids=lambda c: c.__name__)
def test_round_trip_for_every_optimizer(cls):
    opt = cls(learning_rate=0.0123, clipnorm=1.5)
    saved = json.loads(json.dumps(optimizers.serialize(opt)))
    clone = optimizers.deserialize(saved)
    assert type(clone) is cls and clone.get_config() == opt.get_config() and not clone.built


def test_keras_saved_dict_with_extra_keys_and_lowercase_class_name():
    keras_adam = {
        "module": "keras.optimizers", "class_name": "Adam", "registered_name": None,
        "config": {"name": "adam", "learning_rate": 0.002, "weight_decay": None, "clipnorm": None,
                   "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                   "ema_overwrite_frequency": None, "loss_scale_factor": None,
                   "gradient_accumulation_steps": None, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-07,
                   "amsgrad": True},
    }
    opt = optimizers.deserialize(keras_adam)
    assert type(opt) is optimizers.Adam
    assert (opt.learning_rate, opt.beta_1, opt.beta_2, opt.amsgrad) == (0.002, 0.8, 0.99, True)
    rms = optimizers.deserialize({"class_name": "rmsprop", "config": {"rho": 0.8}})
    assert type(rms) is optimizers.RMSprop and rms.rho == 0.8 and rms.learning_rate == 0.001


def test_schedule_learning_rate_names_and_errors():
    schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    opt = optimizers.SGD(learning_rate=schedule, momentum=0.9)
    clone = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(opt))))
    assert clone.get_config() == opt.get_config()
    w = torch.nn.Parameter(torch.zeros(1))
    clone.build([w])
    assert clone.learning_rate == pytest.approx(0.1)  # the schedule at step 0
    assert type(optimizers.deserialize("adamw")) is optimizers.AdamW
    with pytest.raises(ValueError, match="Unknown optimizer class"):
        optimizers.deserialize({"class_name": "Sgd2", "config": {}})
    with pytest.raises(ValueError, match="class_name"):
        optimizers.deserialize({"config": {}})
    with pytest.raises(TypeError):
        optimizers.deserialize(0.1)


def test_custom_objects():
    class MySGD(optimizers.SGD):
        pass

    opt = optimizers.deserialize({"class_name": "MySGD", "config": {"learning_rate": 0.5}}, custom_objects={"MySGD": MySGD})
    assert type(opt) is MySGD and opt.learning_rate == 0.5
    assert type(optimizers.deserialize("MySGD", custom_objects={"MySGD": MySGD})) is MySGD
