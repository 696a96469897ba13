"""The numpy contract every other layer reads: stacks, queries and keys, the memory budget, tokens, checks.

Imports nothing else of attnwidget.
"""
