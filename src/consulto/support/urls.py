"""The support desk's pages: /aide/ for customers, /support/ for agents."""

from .views import urlpatterns

app_name = "support"
__all__ = ["app_name", "urlpatterns"]
