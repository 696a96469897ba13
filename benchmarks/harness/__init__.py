"""A static page that renders the bundled widget against a fake anywidget model.

``fixture.dump_widget`` writes a widget's synced state (and the answers to the
page's layer requests) to a directory; ``server.serve`` serves that directory, the
bundle and ``index.html`` on 127.0.0.1. See ``benchmarks/README.md``.
"""
