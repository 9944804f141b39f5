"""The evaluators: one module per scorer, each an :class:`.base.Evaluator` registered by its decorator.

An evaluator scores one prediction of LLaMA-Factory's ``generated_predictions.jsonl`` at a time
(metric -> value in [0, 1]) and aggregates; `lfd eval` and `lfd compare` run them, add intervals and
write the reports. Every module here but ``base`` is imported to find the built-ins. Authors import
everything from :mod:`.base`.
"""
