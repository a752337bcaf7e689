"""NetAug's training step with two backward passes (``separate_backward``):
the same step as one backward of the summed loss, with the tiny pass's
activations freed before the augmented forward."""
import copy
import random
import weakref

import pytest
import torch
from mmengine.optim import OptimWrapper

from conftest import build_model, fake_batch


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    built = build_model()
    built.train()
    return built


def _data(seed: int, size: int = 256):
    """A dataloader batch (uint8 images before the data preprocessor)."""
    images, samples = fake_batch(size=size, seed=seed)
    g = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, image.shape, generator=g, dtype=torch.uint8)
        for image in images
    ]
    return dict(inputs=inputs, data_samples=samples)


def _train(model, separate: bool, steps: int, accumulate: int = 1):
    """``steps`` train_steps with a new sub-network each; the log vars."""
    model = copy.deepcopy(model)
    model.separate_backward = separate
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01,
                                                 momentum=0.9),
                                 accumulative_counts=accumulate)
    logs = []
    for step in range(steps):
        widths = model.supernet.sample(random.Random(step))
        logs.append(model.train_step(_data(step), optim_wrapper,
                                     aug_widths=widths))
    return model, optim_wrapper, logs


@pytest.mark.parametrize('accumulate', [1, 2])
def test_two_backward_passes_make_the_one_backward_step(model, accumulate):
    steps = 2  # accumulate=2: the one update sums two steps' gradients
    joint, joint_wrapper, joint_logs = _train(model, False, steps, accumulate)
    split, split_wrapper, split_logs = _train(model, True, steps, accumulate)
    # one optimiser step counted per train_step, as mmengine counts it
    assert split_wrapper.inner_count == joint_wrapper.inner_count == steps
    for a, b in zip(joint_logs, split_logs):
        assert list(a) == list(b)  # loss, tiny losses, aug_ losses
        assert list(a)[0] == 'loss' and any(k.startswith('aug_') for k in a)
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)
    # equal up to float rounding (over more steps, SSD's hard-negative
    # mining among near-tied scores amplifies the rounding differences)
    difference = update = 0.
    for p, q, start in zip(joint.parameters(), split.parameters(),
                           model.parameters()):
        difference += (p - q).double().square().sum().item()
        update += (p - start).double().square().sum().item()
    assert update > 0
    assert difference**0.5 < 1e-5 * update**0.5, (difference, update)
    for a, b in zip(joint.buffers(), split.buffers()):
        torch.testing.assert_close(a, b)  # BN statistics: same passes


def test_steps_without_an_augmented_pass_take_mmengines_path(model):
    model = copy.deepcopy(model)
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    log_vars = model.train_step(_data(0), optim_wrapper, aug_widths=None)
    assert optim_wrapper.inner_count == 1
    assert not any(k.startswith('aug_') for k in log_vars)


class _Box:
    """Holds a saved tensor; autograd drops it with its graph."""

    def __init__(self, tensor):
        self.tensor = tensor


class _SavedBytes:
    """Bytes of tensors that autograd currently keeps for backward, and
    their peak (``torch.autograd.graph.saved_tensors_hooks``)."""

    def __init__(self):
        self.live = self.peak = 0

    def _free(self, nbytes):
        self.live -= nbytes

    def pack(self, tensor):
        box = _Box(tensor)
        nbytes = tensor.numel() * tensor.element_size()
        self.live += nbytes
        self.peak = max(self.peak, self.live)
        weakref.finalize(box, self._free, nbytes)
        return box

    @staticmethod
    def unpack(box):
        return box.tensor


def _peak_saved_bytes(model, separate: bool, widths) -> int:
    model = copy.deepcopy(model)
    model.separate_backward = separate
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    saved = _SavedBytes()
    with torch.autograd.graph.saved_tensors_hooks(saved.pack, saved.unpack):
        model.train_step(_data(0), optim_wrapper, aug_widths=widths)
    assert saved.live == 0
    return saved.peak


def test_the_tiny_pass_is_freed_before_the_augmented_forward(model):
    largest = model.supernet.largest_widths()
    tiny = _peak_saved_bytes(model, True, None)
    joint = _peak_saved_bytes(model, False, largest)
    split = _peak_saved_bytes(model, True, largest)
    assert joint > split + 0.9 * tiny  # the tiny graph is no longer held
    assert split < 1.01 * (joint - tiny)  # only the augmented pass at peak
