"""django-allauth, adapted: a practitioner who has not finished signing up goes back where they
were after logging in, and account e-mails (codes, password resets) leave through the outbox."""

from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django.conf import settings
from django.urls import reverse

from consulto.notifications import services as notifications

from .models import Journey


def platform_site() -> SimpleNamespace:
    """What allauth's templates call the site: the platform, not the host of the request."""
    return SimpleNamespace(
        name=settings.CONSULTO_SITE_NAME, domain=urlsplit(settings.CONSULTO_SITE_URL).netloc
    )


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        user = request.user
        if Journey.objects.filter(user=user, published_at__isnull=True).exists():
            return reverse("onboarding:resume")
        return super().get_login_redirect_url(request)

    def send_mail(self, template_prefix: str, email: str, context_: dict) -> None:
        """Render the e-mail in the language of the page, name the platform and link to
        CONSULTO_SITE_URL whatever host the request came by, and write it to the outbox: the
        task worker sends it, and retries while the SMTP server is down."""
        request = context.request
        site_url = settings.CONSULTO_SITE_URL.rstrip("/")
        base = request.build_absolute_uri("/").rstrip("/") if request is not None else ""
        values = dict(context_)
        for key, value in values.items():
            if base and isinstance(value, str) and value.startswith(base + "/"):
                values[key] = site_url + value[len(base) :]
        rendered = self.render_mail(
            template_prefix,
            email,
            {
                "request": request,
                "email": email,
                "current_site": platform_site(),
                "site_url": site_url + "/",
                **values,
            },
        )
        html = next(
            (
                content
                for content, kind in getattr(rendered, "alternatives", [])
                if kind == "text/html"
            ),
            "",
        )
        notifications.queue_account_email(
            recipient=email, subject=rendered.subject, body=rendered.body, html_body=html
        )
