"""The compatibility fixes of mmdet_netaug.compat."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.runner import load_checkpoint

from conftest import build_model, fake_batch
from mmdet_netaug.compat import safe_load_checkpoint


def test_ssd_head_can_predict():
    # Without the fix, mmdet 3.3.0 raises AttributeError: 'SSDHead' object
    # has no attribute 'loss_cls' here.
    model = build_model('ssdlite_mbv2_w035_cards.py').eval()
    images, samples = fake_batch(size=192)
    with torch.no_grad():
        results = model.predict(images, samples)
    assert len(results) == 2 and model.bbox_head.loss_cls is None


def test_training_state_loads_with_weights_only(tmp_path):
    hub = MessageHub.get_instance('compat-test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/lr', np.float64(0.01))
    hub.update_info('epoch', np.int64(3))
    path = tmp_path / 'state.pth'
    torch.save(dict(message_hub=hub.state_dict(),
                    state_dict=dict(w=torch.ones(2))), path)
    checkpoint = safe_load_checkpoint(str(path))
    buffer = checkpoint['message_hub']['log_scalars']['train/loss']
    assert buffer.mean() == 1.5  # a working HistoryBuffer


class _Payload:

    def __reduce__(self):
        import os
        return (os.system, ('echo pwned',))


def test_arbitrary_pickled_object_is_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, extra=_Payload()), path)
    with pytest.raises(pickle.UnpicklingError, match='evil.pth'):
        safe_load_checkpoint(str(path))
    # Also through mmengine's own loading path.
    with pytest.raises(pickle.UnpicklingError, match='allow-list'):
        load_checkpoint(torch.nn.Linear(1, 1), str(path))
