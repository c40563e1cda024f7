"""Signing in to the portal: by mobile number and password, from an invitation link, or with a reset code."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts.backends import USER_BACKEND
from accounts.forms import lockout_policy
from accounts.permissions import has_role
from accounts.roles import Role
from applications import portal as services
from applications.forms import apply_service_errors
from applications.models import TransitionError
from core.ratelimit import allow

from ..forms import InvitationAcceptForm, ResetConfirmForm, ResetRequestForm, SignInForm
from .common import client_ip

# Brakes on the public forms, per IP address (and per number for the reset code): generous for a person, tight for
# a script. The account lockout after 5 wrong passwords (django-axes) is the hard limit.
SIGN_IN_LIMIT = (20, 15 * 60)
RESET_LIMIT_PER_IP = (10, 60 * 60)
RESET_LIMIT_PER_CONTACT = (3, 60 * 60)
TOO_MANY = _("Too many attempts from this connection. Please wait a few minutes and try again.")


def _too_many(request: HttpRequest, template: str, form) -> HttpResponse:
    return render(request, template, {"form": form, "refusal": TOO_MANY}, status=429)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/portal/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("portal:home")


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and has_role(request.user, Role.BORROWER):
        return redirect("portal:home")
    template = "portal/sign_in.html"
    form = SignInForm(request, request.POST or None)
    if request.method == "POST":
        if not allow("portal-sign-in", client_ip(request), limit=SIGN_IN_LIMIT[0], window_seconds=SIGN_IN_LIMIT[1]):
            return _too_many(request, template, form)
        if form.is_valid():
            login(request, form.user)
            return redirect(_safe_next(request))
    return render(
        request,
        template,
        {"form": form, "next": _safe_next(request)},
        status=400 if form.errors else 200,
    )


def locked_out(request: HttpRequest) -> HttpResponse:
    """The portal's page for an account locked by django-axes (called from accounts.views.locked_out)."""
    form = SignInForm(request, initial={"mobile": request.POST.get("mobile", "")})
    message = (
        _("Too many wrong passwords. Your account is locked for %(minutes)s minutes; you can also reset your password.")
        % lockout_policy()
    )
    return render(request, "portal/sign_in.html", {"form": form, "refusal": message}, status=429)


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("portal:login")


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the invitation: choose a password (once), then you are signed in."""
    invitation = services.invitation_for(token)
    if invitation is None:
        return render(request, "portal/invitation.html", {"invalid": True}, status=410)
    form = InvitationAcceptForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token, password=form.cleaned_data["password1"], language=form.cleaned_data["language"]
            )
        except TransitionError as error:
            return render(request, "portal/invitation.html", {"invalid": True, "refusal": str(error)}, status=410)
        except ValidationError as error:
            apply_service_errors(form, _password_errors_on_field(error))
        else:
            # The language chosen on this form wins over the page's cookie, which signing in would otherwise store
            # (accounts.receivers.record_sign_in); the welcome is in it too.
            request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = user.preferred_language
            login(request, user, backend=USER_BACKEND)
            translation.activate(user.preferred_language)
            messages.success(request, _("Welcome. Your password is set; next time sign in with your mobile number."))
            response = redirect("portal:home")
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.preferred_language)
            return response
    return render(
        request,
        "portal/invitation.html",
        {"form": form, "borrower_name": invitation.borrower.name},
        status=400 if form.errors else 200,
    )


def _password_errors_on_field(error: ValidationError) -> ValidationError:
    """Django's password validators raise a plain list; put it on the new-password field."""
    return error if hasattr(error, "error_dict") else ValidationError({"password1": error.messages})


@never_cache
@require_http_methods(["GET", "POST"])
def reset_request(request: HttpRequest) -> HttpResponse:
    template = "portal/reset_request.html"
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        identifier = form.cleaned_data["identifier"].strip()
        if not (
            allow(
                "portal-reset-ip", client_ip(request), limit=RESET_LIMIT_PER_IP[0], window_seconds=RESET_LIMIT_PER_IP[1]
            )
            and allow(
                "portal-reset-contact",
                identifier.lower(),
                limit=RESET_LIMIT_PER_CONTACT[0],
                window_seconds=RESET_LIMIT_PER_CONTACT[1],
            )
        ):
            return _too_many(request, template, form)
        services.reset_code_send(identifier=identifier)
        # The same answer whether or not the number has an account.
        messages.info(
            request,
            _("If %(contact)s belongs to a portal account, a code is on its way. It is valid for 15 minutes.")
            % {"contact": identifier},
        )
        return redirect(f"{reverse('portal:reset_confirm')}?identifier={identifier}")
    return render(request, template, {"form": form}, status=400 if form.errors else 200)


@never_cache
@sensitive_post_parameters("code", "password1", "password2")
@require_http_methods(["GET", "POST"])
def reset_confirm(request: HttpRequest) -> HttpResponse:
    template = "portal/reset_confirm.html"
    form = ResetConfirmForm(request.POST or None, initial={"identifier": request.GET.get("identifier", "")})
    if request.method == "POST":
        if not allow(
            "portal-reset-ip", client_ip(request), limit=RESET_LIMIT_PER_IP[0], window_seconds=RESET_LIMIT_PER_IP[1]
        ):
            return _too_many(request, template, form)
        if form.is_valid():
            try:
                services.reset_code_confirm(
                    identifier=form.cleaned_data["identifier"],
                    code=form.cleaned_data["code"],
                    password=form.cleaned_data["password1"],
                )
            except ValidationError as error:
                apply_service_errors(form, _password_errors_on_field(error))
            else:
                messages.success(request, _("Your new password is set. Sign in with your mobile number."))
                return redirect("portal:login")
    return render(request, template, {"form": form}, status=400 if form.errors else 200)
