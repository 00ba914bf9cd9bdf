"""The regulator's console under /regulation/, and the patient's signed appointment page."""

from .views import console, figures, patient_page

app_name = "regulation"

urlpatterns = console.urlpatterns + figures.urlpatterns

# Mounted at the site's root (``consulto/urls.py``), outside the console's namespace.
patient_urlpatterns = patient_page.urlpatterns
