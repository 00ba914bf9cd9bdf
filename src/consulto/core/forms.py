"""Account forms: django-allauth's, with the password rule said in one plain sentence."""

from allauth.account.forms import ResetPasswordKeyForm, SignupForm

from .passwords import CnilPasswordValidator


class ConsultoSignupForm(SignupForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = CnilPasswordValidator().get_help_text()


class ConsultoResetPasswordKeyForm(ResetPasswordKeyForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = CnilPasswordValidator().get_help_text()
