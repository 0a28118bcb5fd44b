"""Backpropagation written out by hand: each loss beside its derivative, each layer's chain rule.

Nothing here calls autograd; the tests compare every gradient with torch.autograd and with
central differences, which is the point of writing it out.
"""
