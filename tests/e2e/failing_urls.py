"""The site's URLs plus one page that fails, to see the 500 page as a visitor would."""

from django.urls import path

from consulto.urls import handler400, handler500  # noqa: F401
from consulto.urls import urlpatterns as site_urlpatterns


def fails(request):
    raise RuntimeError("a failure for the browser test of the 500 page")


urlpatterns = [path("panne/", fails), *site_urlpatterns]
