"""Following a consultation by email: asking, confirming, unsubscribing, and coming back to the
next round through its invitation (deliberate.services.following)."""

from deliberate.following.views import bp

__all__ = ["bp"]
