"""The embeddable participation page: a consultation's statements, one at a time, inside a frame
on another website (a council's or an NHS trust's page).

``frame`` holds what living in someone else's page needs (which sites may frame it, cookies a
browser sends back inside a third-party frame); ``views`` the pages; ``snippet`` the code the team
pastes. This package imports no views on purpose: ``consultations.participant_cookie`` reads
``frame`` to name its cookie, and the views import that module.
"""
