"""The open summary's pages: a public report of every consultation's published analysis.

``views`` holds the blueprint (registered in ``deliberate.register_blueprints``); what the page
says is built by ``deliberate.reporting`` (pure presentation) from the run's stored findings.
"""
