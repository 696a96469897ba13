"""The widget: :class:`AttentionWidget` as thin glue over the layers below, and how its front end reaches the page."""

from .attention_widget import AttentionWidget

__all__ = ["AttentionWidget"]
