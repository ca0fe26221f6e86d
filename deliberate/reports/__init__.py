"""The open summary: a public report of every consultation's published analysis, and its figures.

``views`` holds the blueprint (registered in ``deliberate.register_blueprints``); ``figures``,
``summary`` and ``charts`` turn a stored analysis run into what the page shows, in pure Python.
"""
