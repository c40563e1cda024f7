from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .forms import PreferencesForm, SignInForm, lockout_policy
from .navigation import home_url_for
from .services import user_set_language


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True


def locked_out(request, credentials=None, *args, **kwargs):
    """django-axes calls this instead of signing in once a username has too many recent failures."""
    form = SignInForm(request, initial={"username": request.POST.get("username", "")})
    lockout = (
        _(
            "Too many failed sign-in attempts. This account is locked for %(minutes)s minutes; "
            "try again later or ask your administrator to unlock it."
        )
        % lockout_policy()
    )
    return render(request, "accounts/login.html", {"form": form, "lockout_message": lockout}, status=429)


@login_required
def home(request):
    """Send each person to the home page of their role."""
    url = home_url_for(request.user)
    if url is None:
        return render(request, "accounts/no_role.html", status=403)
    return redirect(url)


@require_POST
def set_language(request):
    """Language menu: sets the cookie for everyone and stores the choice on a signed-in user."""
    response = django_set_language(request)
    language = request.POST.get("language")
    if request.user.is_authenticated and language in dict(PreferencesForm.base_fields["preferred_language"].choices):
        user_set_language(user=request.user, language=language)
    return response


@login_required
def preferences(request):
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        response = redirect("accounts:preferences")
        messages.success(request, _("Your preferences were saved."))
        return response
    return render(request, "accounts/preferences.html", {"form": form})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:preferences")

    def form_valid(self, form):
        messages.success(self.request, _("Your password was changed."))
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
