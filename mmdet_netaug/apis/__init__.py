"""High-level functions used by the tools."""
from .export import (ExportError, build_netaug_model, config_test_size,
                     export_tiny, flatten_outputs, max_output_difference,
                     model_complexity, plain_config)

__all__ = [
    'ExportError', 'build_netaug_model', 'config_test_size', 'export_tiny',
    'flatten_outputs', 'max_output_difference', 'model_complexity',
    'plain_config'
]
