import numpy as np
import pytest
import torch

from mia_core.config import PRESETS, ExperimentConfig, TrainConfig, preset
from mia_core.models import LeNet5, SeedLeNet, build_model
from mia_core.training import predict_logits, train_model


def test_lenet_shapes_and_parameter_counts():
    x = torch.zeros(2, 1, 28, 28)
    assert LeNet5()(x).shape == (2, 10)
    assert SeedLeNet()(x).shape == (2, 10)
    assert sum(p.numel() for p in SeedLeNet().parameters()) == 61_610  # as in the seed repository
    assert sum(p.numel() for p in LeNet5().parameters()) == 61_706
    tanh = build_model("lenet5_tanh")
    assert sum(p.numel() for p in tanh.parameters()) == 61_706
    assert any(isinstance(m, torch.nn.Tanh) for m in tanh.modules())


@pytest.mark.parametrize("arch", ["lenet5", "seed_lenet"])
@pytest.mark.slow
def test_pooling_before_relu_trains_the_same_weights_as_after(digits, arch, monkeypatch):
    """The reference: the textbook order, conv -> ReLU -> pool. Pooling first must change nothing, bit for bit."""
    import mia_core.models as models

    def textbook(**kwargs):
        model = models.ARCHITECTURES[arch](**kwargs)
        conv1, pool1, relu1, conv2, pool2, relu2 = model.features
        model.features = torch.nn.Sequential(conv1, relu1, pool1, conv2, relu2, pool2)
        return model

    cfg = TrainConfig(arch=arch, epochs=3, device="cpu")
    x, y = digits.tensors(np.arange(200))
    pooled_first, _ = train_model(cfg, x, y, seed=3)
    monkeypatch.setattr("mia_core.training.loop.build_model", lambda arch, dropout: textbook(dropout=dropout))
    reference, _ = train_model(cfg, x, y, seed=3)
    assert [type(m).__name__ for m in reference.features][1:3] == ["ReLU", "MaxPool2d"]
    for name, weight in reference.state_dict().items():
        assert torch.equal(weight, pooled_first.state_dict()[name]), name


@pytest.mark.slow
def test_same_seed_same_model(digits):
    cfg = TrainConfig(epochs=2, device="cpu", dropout=0.3)
    x, y = digits.tensors(np.arange(200))
    a, hist_a = train_model(cfg, x, y, seed=5)
    b, hist_b = train_model(cfg, x, y, seed=5)
    c, _ = train_model(cfg, x, y, seed=6)
    assert hist_a == hist_b
    assert np.array_equal(predict_logits(a, x), predict_logits(b, x))
    assert not np.array_equal(predict_logits(a, x), predict_logits(c, x))


def test_progress_reports_every_epoch(digits):
    events = []
    x, y = digits.tensors(np.arange(64))
    train_model(TrainConfig(epochs=3, device="cpu"), x, y, seed=0, test=(x, y), progress=events.append, stage="t")
    assert [(e.stage, e.step, e.total) for e in events] == [("t", 1, 3), ("t", 2, 3), ("t", 3, 3)]
    assert {"loss", "train_acc", "test_acc"} <= set(events[-1].metrics)


@pytest.mark.parametrize("changes, message", [
    ({"dropout": 1.0}, "dropout must be in"),
    ({"epochs": 0}, "epochs must be at least 1"),
    ({"lr": 0}, "learning rate must be positive"),
    ({"weight_decay": -1}, "weight decay must be non-negative"),
    ({"optimizer": "lbfgs"}, "unknown optimizer 'lbfgs'"),
    ({"arch": "resnet"}, "unknown architecture 'resnet'"),
])
def test_train_config_rejects_impossible_values(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)


def test_experiment_config_validation_and_presets():
    with pytest.raises(ValueError, match="at least 1 shadow"):
        ExperimentConfig(shadows=0)
    with pytest.raises(ValueError, match="unknown attack 'x'"):
        ExperimentConfig(attacks=("x",))
    with pytest.raises(ValueError, match="unknown preset 'big'"):
        preset("big")
    assert set(PRESETS) >= {"overfit", "defended"}
    cfg = preset("defended")
    assert ExperimentConfig.from_dict(cfg.to_dict()) == cfg


def test_build_model_names_the_unknown_architecture():
    with pytest.raises(ValueError, match="unknown architecture 'vgg'"):
        build_model("vgg")


@pytest.mark.slow
def test_the_test_set_is_evaluated_on_ten_epochs_not_every_one(digits):
    x, y = digits.tensors(np.arange(100))
    _, history = train_model(TrainConfig(epochs=25, device="cpu"), x, y, seed=0, test=digits.tensors(np.arange(100, 300)))
    assert [h.epoch for h in history if h.test_accuracy is not None] == [1, 3, 6, 9, 12, 15, 18, 21, 24, 25]
    assert len(history) == 25 and history[0].loss > history[-1].loss  # every epoch still reports its loss


@pytest.mark.slow
def test_many_models_in_worker_processes_are_the_models_trained_here(digits):
    """One torch thread per task: side by side in two processes or one after another, the same weights, test
    curve and answers. Three tasks: a model trained alone (another record count), then two stacks, the first with a
    test curve. Two models answer records as they are trained, one its labels for altered copies too."""
    from mia_core.jobs.tasks import one_thread
    from mia_core.training.altered_copies import label_answers
    from mia_core.jobs.model_pool import ProcessPool
    from mia_core.training.pool import InProcess, ModelSpec, tasks

    cfg = TrainConfig(epochs=3, device="cpu", dropout=0.2)
    asked = np.arange(500, 600)
    specs = [ModelSpec(cfg, np.arange(k * 80, (k + 1) * 80), seed=k, stage=f"model {k}") for k in range(5)]
    specs[0] = ModelSpec(cfg, specs[0].index[:60], seed=0, stage="model 0", answer=asked)
    specs[1] = ModelSpec(cfg, specs[1].index, seed=1, stage="model 1", test=np.arange(900, 1000))
    specs[4] = ModelSpec(cfg, specs[4].index, seed=4, stage="model 4", answer=asked, answer_labels=True)
    assert tasks(specs) == [[0], [1, 2], [3, 4]]
    with one_thread():
        here = InProcess().train(specs, digits)
    pool = ProcessPool(2, {"dir": None, "fingerprint": digits.fingerprint})
    there = pool.train(specs, digits)
    pool.shutdown()
    x = digits.tensors(asked)[0]
    for a, b in zip(here, there):
        assert np.array_equal(predict_logits(a.model, x), predict_logits(b.model, x))
        assert a.history == b.history
    for k in (0, 4):  # the answers are the model's own, from wherever it trained
        assert np.array_equal(there[k].logits, predict_logits(there[k].model, x))
        assert np.array_equal(here[k].logits, there[k].logits)
    assert np.array_equal(there[4].label_answers, label_answers(there[4].model, x))
    assert there[0].label_answers is None and all(t.logits is None for t in there[1:4])
    assert [h.epoch for h in here[1].history if h.test_accuracy is not None] == [1, 2, 3]
    assert pool.peak_rss_mb > 100  # each worker reports its own peak: torch alone takes more


def test_models_that_can_train_side_by_side_do_in_stacks_of_at_most_five():
    from mia_core.training.pool import ModelSpec, tasks

    plain, index = TrainConfig(device="cpu"), np.arange(200)
    shadows = [ModelSpec(plain, index, seed=k, stage=f"shadow {k}") for k in range(20)]
    target = ModelSpec(plain, index, seed=0, stage="target", test=np.arange(5))  # its test curve goes along
    assert tasks([target, *shadows[:8]]) == [[0, 1, 2, 3], [4, 5, 6, 7, 8]]  # the overfit preset's: the target first
    assert tasks(shadows[:8]) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert [len(t) for t in tasks(shadows[:16])] == [4, 4, 4, 4]
    assert [len(t) for t in tasks(shadows)] == [5, 5, 5, 5]
    assert tasks(shadows[:4]) == [[0, 1], [2, 3]]  # two stacks from four models up...
    assert [len(t) for t in tasks(shadows[:7])] == [3, 4]  # ...as even as they can be, the smaller first...
    assert tasks(shadows[:3]) == [[0, 1, 2]]
    assert tasks(shadows[:1]) == [[0]]  # ...and never one alone unless it is the only one
    private = ModelSpec(TrainConfig(device="cpu", dp_noise=1.0), index, seed=9, stage="dp")
    smaller = ModelSpec(plain, index[:100], seed=10, stage="smaller")  # another batch count: its own stack
    assert tasks([private, *shadows[:2], smaller]) == [[0], [1, 2], [3]]


def test_a_model_trained_channels_last_comes_back_in_the_plain_layout(digits):
    """Training runs channels-last; what is stored, exported (safetensors needs contiguous tensors) and queried
    is the plain layout."""
    x, y = digits.tensors(np.arange(64))
    model, _ = train_model(TrainConfig(epochs=1, device="cpu"), x, y, seed=0)
    assert all(t.is_contiguous() for t in model.state_dict().values())
