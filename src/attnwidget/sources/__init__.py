"""Where attention comes from: a model run once (``forward``), tensors the user has (``tensors``), a TransformerLens cache (``lens``)."""
