"""The package's IQA models. Importing `koniq_lt.models` registers every one of them, as timm's `models/__init__.py` does."""

# Hand-written, not exported from a notebook (nbdev leaves an existing __init__.py alone). `list_models()` names the models
# in the order they are registered: Table I's first, each registered by its own module on import, in the order imported here;
# then the other choices, where a choice changes the model: each its reference's configuration with that one thing changed.
from .registry import Stage, ModelConfig, register_model, register_variant, create_model, list_models, model_config
from . import cnniqa, backbones, dbcnn, nima, tres, topiq, maniqa

register_variant('tres', 'tres_flipback', tres.tres_flipback,
                 reference=model_config('tres').reference.replace('compared as they come', 'flipped back first (not the official code)'))
register_variant('maniqa', 'maniqa_crops', size=None, crop=(224, 224), test_crops=20,
                 reference=model_config('maniqa').reference.replace('whole images resized to 224x224 with flips, scored once',
                                                                    "the paper's protocol: random 224 crops with flips, the mean of 20 random test crops"))

__all__ = ['Stage', 'ModelConfig', 'register_model', 'register_variant', 'create_model', 'list_models', 'model_config',
           'cnniqa', 'backbones', 'dbcnn', 'nima', 'tres', 'topiq', 'maniqa']
