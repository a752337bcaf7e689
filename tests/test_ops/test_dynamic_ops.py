"""Dynamic ops: lossless conversion, leading slices, explicit widths."""
import pytest
import torch
import torch.nn as nn

from mmdet_netaug.ops import (DynamicBatchNorm2d, DynamicConv2d,
                              DynamicSyncBatchNorm)


@pytest.mark.parametrize('groups,cin,cout', [(1, 8, 16), (8, 8, 8),
                                             (4, 8, 16)])
def test_conv_plain_dynamic_plain_is_lossless(groups, cin, cout):
    torch.manual_seed(0)
    plain = nn.Conv2d(cin, cout, 3, padding=1, groups=groups, bias=True)
    widen = 3 if groups == 1 else 2
    dynamic = DynamicConv2d.convert_from(plain, cin * widen, cout * widen)
    x = torch.randn(2, cin, 9, 9)
    # At the base width the dynamic op computes exactly the plain op.
    assert torch.equal(dynamic(x), plain(x))
    # Its tiny weights are the leading slice of the wide ones.
    assert torch.equal(dynamic.weight[:cout, :plain.weight.shape[1]],
                       plain.weight)
    static = dynamic.to_static_op()
    assert type(static) is nn.Conv2d
    assert static.state_dict().keys() == plain.state_dict().keys()
    for key, value in plain.state_dict().items():
        assert static.state_dict()[key].shape == value.shape
        assert torch.equal(static.state_dict()[key], value)
    assert torch.equal(static(x), plain(x))


def test_conv_wider_widths_and_grouped_groups():
    plain = nn.Conv2d(8, 8, 3, padding=1, groups=4)
    dynamic = DynamicConv2d.convert_from(plain, 16, 16)
    dynamic.set_active_channels(12, 12)
    assert dynamic.active_groups == 6  # 2 channels per group stay
    out = dynamic(torch.randn(1, 12, 5, 5))
    assert out.shape == (1, 12, 5, 5)
    static = dynamic.to_static_op()
    assert static.groups == 6 and static.weight.shape == (12, 2, 3, 3)
    assert torch.equal(static(torch.ones(1, 12, 5, 5)),
                       dynamic(torch.ones(1, 12, 5, 5)))


def test_conv_index_selection_for_concatenated_inputs():
    plain = nn.Conv2d(4, 6, 1)
    dynamic = DynamicConv2d.convert_from(plain, 10, 6)
    index = torch.tensor([0, 1, 2, 3, 7, 9])
    dynamic.set_active_channels(index, 6)
    x = torch.randn(1, 6, 3, 3)
    expected = nn.functional.conv2d(x, dynamic.weight[:, index],
                                    dynamic.bias)
    assert torch.equal(dynamic(x), expected)


def test_active_width_is_explicit_and_checked():
    dynamic = DynamicConv2d.convert_from(nn.Conv2d(4, 4, 1), 8, 8)
    with pytest.raises(ValueError, match='outside 1..8'):
        dynamic.set_active_channels(9, 4)
    with pytest.raises(ValueError, match='index reaches 8'):
        dynamic.set_active_channels(torch.tensor([0, 8]), 4)
    # A wider input is an error, not a silent change of width.
    with pytest.raises(RuntimeError):
        dynamic(torch.randn(1, 8, 2, 2))


@pytest.mark.parametrize('cls,static_cls', [(DynamicBatchNorm2d,
                                             nn.BatchNorm2d),
                                            (DynamicSyncBatchNorm,
                                             nn.SyncBatchNorm)])
def test_norm_lossless_and_running_stats_slice(cls, static_cls):
    torch.manual_seed(0)
    plain = static_cls(6, momentum=0.1)
    plain.weight.data.uniform_()
    plain.running_mean.data.uniform_()
    dynamic = cls.convert_from(plain, 12)
    x = torch.randn(4, 6, 3, 3)
    plain.eval(), dynamic.eval()
    assert torch.equal(dynamic(x), plain(x))
    static = dynamic.to_static_op()
    assert type(static) is static_cls
    assert static.state_dict().keys() == plain.state_dict().keys()
    assert all(torch.equal(static.state_dict()[k], v)
               for k, v in plain.state_dict().items())
    # Training at a wider width updates the leading slice of the buffers.
    dynamic.train()
    dynamic.set_active_channels(10)
    before = dynamic.running_mean.clone()
    dynamic(torch.randn(4, 10, 3, 3) + 5)
    assert not torch.equal(dynamic.running_mean[:10], before[:10])
    assert torch.equal(dynamic.running_mean[10:], before[10:])


@pytest.mark.parametrize('cls', [DynamicBatchNorm2d, DynamicSyncBatchNorm])
def test_norm_over_an_index_keeps_its_running_stats(cls):
    """A BatchNorm right after a concatenation takes its channels by index
    (the segments' base channels, then their extra ones): training updates
    the statistics of exactly those channels of the shared buffers, and
    none of the others, as at a leading slice."""
    torch.manual_seed(0)
    dynamic = cls.convert_from(nn.BatchNorm2d(4, momentum=0.5), 10)
    index = torch.tensor([0, 1, 2, 3, 7, 9])
    dynamic.set_active_channels(index)
    dynamic.train()
    x = torch.randn(8, 6, 3, 3) * 3 + 5
    before_mean = dynamic.running_mean.clone()
    before_var = dynamic.running_var.clone()
    dynamic(x)
    mean = x.mean((0, 2, 3))
    var = x.var((0, 2, 3), unbiased=True)
    assert torch.allclose(dynamic.running_mean[index],
                          0.5 * before_mean[index] + 0.5 * mean, atol=1e-6)
    assert torch.allclose(dynamic.running_var[index],
                          0.5 * before_var[index] + 0.5 * var, atol=1e-5)
    rest = torch.tensor([4, 5, 6, 8])
    assert torch.equal(dynamic.running_mean[rest], before_mean[rest])
    assert torch.equal(dynamic.running_var[rest], before_var[rest])
    # evaluation reads them, and changes nothing
    dynamic.eval()
    kept = dynamic.running_mean.clone()
    dynamic(x)
    assert torch.equal(dynamic.running_mean, kept)


def test_plain_checkpoint_fills_the_leading_slice():
    plain = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    wide = nn.Sequential(
        DynamicConv2d.convert_from(nn.Conv2d(3, 4, 3), 3, 8),
        DynamicBatchNorm2d.convert_from(nn.BatchNorm2d(4), 8))
    extra = wide[0].weight[4:].clone()
    wide.load_state_dict(plain.state_dict(), strict=True)
    assert torch.equal(wide[0].weight[:4], plain[0].weight)
    assert torch.equal(wide[0].weight[4:], extra)
