"""Everything Python and the page exchange: the twin of ``js/data/protocol.ts``.

``view_state`` (the shared settings and their rules), ``requests`` (what the page
may ask, checked), ``limits``, ``encoding`` (arrays to buffers, 8-bit attention),
``payload`` (``_data`` and layer answers), ``analysis`` (``_head_stats``, ``_compare``),
``queries`` (the neuron view's blocks), ``long`` (long-input answers) and ``static``
(the built front end). The messages are described once, in ARCHITECTURE.md.
"""
