"""After logging in, a practitioner who has not finished signing up goes back where they were."""

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from .models import Journey


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        user = request.user
        if Journey.objects.filter(user=user, published_at__isnull=True).exists():
            return reverse("onboarding:resume")
        return super().get_login_redirect_url(request)
