"""ASGI entry point: HTTP (Django) and WebSocket (Channels) in one process type."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consulto.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator

from consulto.core.asgi_http import get_application

# HTTP: Django's synchronous stack on a fixed thread pool (core/asgi_http.py says why).
http_application = get_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from django.urls import get_resolver, path, re_path  # noqa: E402

from consulto.core.consumers import NotFoundConsumer  # noqa: E402
from consulto.practice.consumers import AgendaConsumer  # noqa: E402
from consulto.support.consumers import (  # noqa: E402
    CallConsumer,
    ConsoleConsumer,
    CustomerConsumer,
    PhoneConsumer,
)
from consulto.teleconsultation.consumers import RoomConsumer  # noqa: E402

websocket_urlpatterns: list = [
    path("ws/pro/agendas/", AgendaConsumer.as_asgi()),
    path("ws/visio/<id:room_id>/", RoomConsumer.as_asgi()),
    path("ws/support/console/", ConsoleConsumer.as_asgi()),
    path("ws/support/demandes/", CustomerConsumer.as_asgi()),
    path("ws/support/appel/<id:contact_id>/", CallConsumer.as_asgi()),
    path("ws/support/telephone/<id:contact_id>/", PhoneConsumer.as_asgi()),
    re_path(r"", NotFoundConsumer.as_asgi()),  # any other path: refused with 4404
]

application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Every view imported now, not on the first request.
_ = get_resolver().url_patterns

# What startup loaded (Django, the URLconf, every module: about 160,000 objects) is kept for
# the process's life: out of the garbage collector's reach, a full collection walks only what
# requests made since, not all of it again (bench/README.md, issue 14).
gc.collect()
gc.freeze()
