"""The augmentation space: which widths each channel group may take.

This is the one place the width choices live; the sampler, the exporter,
the hook and the tests all read them from a :class:`WidthSpace`.
"""
import math
from typing import List, Optional, Sequence

#: The NetAug authors' multipliers (their code applies the expand choices to
#: the sampled input width: ``WidthSpace(expand_from_input=True)``).
DEFAULT_WIDTH_CHOICES = (1.0, 1.8, 2.6)
DEFAULT_EXPAND_CHOICES = (1.0, 1.6, 2.2, 2.8)


def _check_choices(field: str, choices) -> List[float]:
    try:
        values = [float(c) for c in choices]
    except (TypeError, ValueError):
        raise ValueError(f'NetAug option {field}: expected a list of numbers '
                         f'starting with 1.0, got {choices!r}') from None
    if not values:
        raise ValueError(f'NetAug option {field}: the list is empty; it must '
                         'start with 1.0 (the tiny model), e.g. [1.0, 1.8, '
                         '2.6]')
    if values[0] != 1.0:
        raise ValueError(f'NetAug option {field}: the first choice must be '
                         f'1.0 (the tiny model), got {values[0]}')
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f'NetAug option {field}: choices must increase '
                         f'strictly, got {values}')
    return values


def choices_from_factors(augment_factor: float,
                         diversity_factor: int) -> List[float]:
    """The paper's parametrisation: ``s`` widths evenly spaced above ``w`` up
    to ``r * w``.

    >>> choices_from_factors(3, 2)
    [1.0, 2.0, 3.0]
    """
    if not augment_factor > 1:
        raise ValueError('NetAug option augment_factor (r): expected a number '
                         f'> 1, got {augment_factor!r}')
    if int(diversity_factor) != diversity_factor or diversity_factor < 1:
        raise ValueError('NetAug option diversity_factor (s): expected an '
                         f'integer >= 1, got {diversity_factor!r}')
    s = int(diversity_factor)
    return [1.0 + (augment_factor - 1.0) * i / s for i in range(s + 1)]


class WidthSpace:
    """Width choices of the augmented models.

    Args:
        width_choices (list[float], optional): Multipliers of the channels
            between blocks (block outputs, stems, neck and head features).
            Default: ``[1.0, 1.8, 2.6]``.
        expand_choices (list[float]): Multipliers of a block's hidden
            channels (inverted-residual expansions). Default:
            ``[1.0, 1.6, 2.2, 2.8]``.
        augment_factor (float, optional): The paper's ``r``; with
            ``diversity_factor`` it replaces ``width_choices``.
        diversity_factor (int, optional): The paper's ``s``.
        divisor (int): Augmented widths are rounded to multiples of this.
            Default: 8.
        expand_from_input (bool): Hidden channels scale with the sampled
            width of the layer that feeds them as well: hidden = base
            hidden x expand choice x (sampled input width / base input
            width), as the NetAug authors' MobileNetV2 computes a block's
            hidden width from its active input width. Hidden channels made
            from other hidden channels (a chain inside one block) keep the
            plain expand choices. Default: False (hidden = base hidden x
            expand choice, whatever the input).
    """

    def __init__(self,
                 width_choices: Optional[Sequence[float]] = None,
                 expand_choices: Sequence[float] = DEFAULT_EXPAND_CHOICES,
                 augment_factor: Optional[float] = None,
                 diversity_factor: Optional[int] = None,
                 divisor: int = 8,
                 expand_from_input: bool = False) -> None:
        if (augment_factor is None) != (diversity_factor is None):
            raise ValueError('NetAug options augment_factor (r) and '
                             'diversity_factor (s) go together; got only one')
        if augment_factor is not None:
            if width_choices is not None:
                raise ValueError('NetAug options: give either width_choices '
                                 'or augment_factor/diversity_factor, not '
                                 'both')
            width_choices = choices_from_factors(augment_factor,
                                                 diversity_factor)
        self.width_choices = _check_choices(
            'width_choices',
            DEFAULT_WIDTH_CHOICES if width_choices is None else width_choices)
        self.expand_choices = _check_choices('expand_choices', expand_choices)
        if int(divisor) != divisor or divisor < 1:
            raise ValueError('NetAug option divisor: expected an integer >= '
                             f'1, got {divisor!r}')
        self.divisor = int(divisor)
        if not isinstance(expand_from_input, bool):
            raise ValueError('NetAug option expand_from_input: expected '
                             f'True or False, got {expand_from_input!r}')
        self.expand_from_input = expand_from_input

    def scale(self, base_width: int, multiplier: float,
              multiple_of: int = 1) -> int:
        """``base_width * multiplier`` rounded to a multiple of both the
        divisor and ``multiple_of`` (their least common multiple, e.g. 8
        for a grouped convolution of 4 channels a group), never below the
        base, a multiple of ``multiple_of``."""
        step = math.lcm(self.divisor, multiple_of)
        w = max(int(base_width * multiplier / step + 0.5) * step, base_width)
        if w % multiple_of:
            w += multiple_of - w % multiple_of
        return w

    def widths(self, base_width: int, inner: bool, fixed: bool = False,
               multiple_of: int = 1) -> List[int]:
        """Allowed widths of a group, the base (tiny) width first."""
        if fixed:
            return [base_width]
        widths = [base_width]
        for m in (self.expand_choices if inner else self.width_choices)[1:]:
            w = self.scale(base_width, m, multiple_of)
            if w > widths[-1]:
                widths.append(w)
        return widths

    def __repr__(self) -> str:
        return (f'WidthSpace(width_choices={self.width_choices}, '
                f'expand_choices={self.expand_choices}, '
                f'divisor={self.divisor}, '
                f'expand_from_input={self.expand_from_input})')
