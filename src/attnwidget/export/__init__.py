"""Leaving the notebook: one self-contained HTML file (``html``) and matplotlib figures (``plot``).

Exports never import the widget: they take plain data, or any object with a
``__attnwidget_view__()`` method returning a :class:`~attnwidget.export.view.SavedView`.
"""
