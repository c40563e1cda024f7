"""What a borrower does for themselves, and what an officer does to let them: the portal account (invitation,
password reset by code), contact preferences, uploading a missing material and acknowledging the risk disclosure.

The portal app calls these; every rule is here. A borrower acting on something that is not theirs gets
PermissionDenied (the portal's selectors already answer 404 before it comes to that).
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import in_scope, require
from accounts.roles import Role
from notifications.models import OutboxMessage
from notifications.services import message_queue

from .models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Borrower,
    DisclosureAcknowledgement,
    Material,
    PortalInvitation,
    PortalResetCode,
    TransitionError,
)
from .models.applications import OPEN_STATUSES
from .services import _event, has_current_acknowledgement, store_material_file

INVITATION_VALID = timedelta(hours=72)
RESET_CODE_VALID = timedelta(minutes=15)
RESET_CODE_MAX_FAILURES = 5
# A borrower may still send a missing item while the application is open (reviewers check it in review).
UPLOAD_STATUSES = OPEN_STATUSES
# The officer asks for the disclosure before submitting, as submission needs it.
DISCLOSURE_STATUSES = (ApplicationStatus.DRAFT, ApplicationStatus.RETURNED)


def _hash(secret: str) -> str:
    # Not core.crypto.keyed_hash: that one upper-cases (for identity numbers), which would make a link's letters
    # case-insensitive and cost it entropy.
    return hmac.new(settings.FIELD_HASH_KEY.encode(), f"portal:{secret}".encode(), hashlib.sha256).hexdigest()


def _link(url_name: str, *args) -> str:
    # The portal app serves these pages; a URL name is runtime wiring, not an import of the higher app.
    return f"{settings.SITE_URL.rstrip('/')}{reverse(url_name, args=args)}"


def _send_to_borrower(borrower: Borrower, *, key: str, template: str, context: dict, email_too: bool = True) -> None:
    """Queue an SMS to the borrower's mobile and, where they gave one and `email_too`, an email."""
    addresses = [(OutboxMessage.Channel.SMS, borrower.mobile)]
    if email_too and borrower.email:
        addresses.append((OutboxMessage.Channel.EMAIL, borrower.email))
    for channel, address in addresses:
        message_queue(
            key=f"{key}:{channel}",
            channel=channel,
            template=template,
            to_address=address,
            context={"name": borrower.name, **context},
            language=borrower.message_language,
            audience=OutboxMessage.Audience.BORROWER,
            recipient=borrower.user,
        )


def require_owner(user: User, borrower_id: int) -> None:
    """A borrower acts only on their own things."""
    profile = getattr(user, "borrower_profile", None)
    if profile is None or profile.pk != borrower_id:
        raise PermissionDenied(_("This is not yours."))


# --- the portal account --------------------------------------------------------------------------------------------
def borrower_invite(*, borrower: Borrower, by: User) -> tuple[PortalInvitation, str]:
    """An officer of the borrower's branch sends a one-time link (72 hours) to set a portal password. Returns the
    invitation and the token (only its hash is stored). An earlier unused link stops working."""
    require(by, "borrower.invite")
    if not in_scope(by, borrower):
        raise PermissionDenied(_("This borrower belongs to another branch."))
    if borrower.user_id:
        raise TransitionError(
            _("%(name)s already has a portal account. A forgotten password is reset from the sign-in page.")
            % {"name": borrower.name}
        )
    if Borrower.objects.filter(mobile=borrower.mobile, user__isnull=False).exclude(pk=borrower.pk).exists():
        raise TransitionError(
            _(
                "Another borrower with the mobile number %(mobile)s already has a portal account; sign-in is by mobile "
                "number, so correct the number first."
            )
            % {"mobile": borrower.mobile}
        )
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        PortalInvitation.objects.filter(borrower=borrower, used_at__isnull=True, expires_at__gt=now).update(
            expires_at=now
        )
        invitation = PortalInvitation.objects.create(
            borrower=borrower, token_hash=_hash(token), created_by=by, expires_at=now + INVITATION_VALID
        )
        _send_to_borrower(
            borrower,
            key=f"portal_invitation:{invitation.pk}",
            template="portal_invitation",
            context={
                "link": _link("portal:accept_invitation", token),
                "hours": int(INVITATION_VALID.total_seconds() // 3600),
                "officer": str(by),
            },
        )
    return invitation, token


def invitation_for(token: str) -> PortalInvitation | None:
    """The invitation a link stands for, if it can still be used."""
    invitation = PortalInvitation.objects.select_related("borrower").filter(token_hash=_hash(token or "")).first()
    if invitation is None or invitation.used_at or invitation.expires_at <= timezone.now():
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str, language: str) -> User:
    """Create the borrower's portal user (role `borrower` only) with the chosen password; the link works once."""
    invitation = invitation_for(token)
    if invitation is None:
        raise TransitionError(_("This link has expired or was already used. Ask your loan officer for a new one."))
    borrower = Borrower.objects.select_for_update().get(pk=invitation.borrower_id)
    user = User(username=f"borrower-{borrower.pk}", display_name=borrower.name, email=borrower.email)
    validate_password(password, user)
    if language not in dict(User.Language.choices):
        raise ValidationError({"language": _("Choose a language from the list.")})
    # The conditional update is the single use: of two tabs submitting one link, one wins.
    if not PortalInvitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(used_at=timezone.now()):
        raise TransitionError(_("This link has expired or was already used. Ask your loan officer for a new one."))
    if borrower.user_id:
        raise TransitionError(_("You already have an account. Sign in with your mobile number."))
    user.preferred_language = language
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=Role.BORROWER))
    borrower.user = user
    borrower.save(update_fields=["user", "updated_at"])
    # Messages sent to this phone before the account existed become theirs, unless the number is shared.
    if not Borrower.objects.filter(mobile=borrower.mobile).exclude(pk=borrower.pk).exists():
        OutboxMessage.objects.filter(
            recipient__isnull=True, audience=OutboxMessage.Audience.BORROWER, to_address=borrower.mobile
        ).update(recipient=user)
    # The invitation itself went out before the user existed, by SMS and email: it is theirs too.
    OutboxMessage.objects.filter(
        recipient__isnull=True, idempotency_key__startswith=f"portal_invitation:{invitation.pk}:"
    ).update(recipient=user)
    return user


def portal_username(mobile: str) -> str:
    """The username to authenticate a portal sign-in with: the borrower's account, or the number itself so that
    failures on an unknown number are counted (and locked) the same way, revealing nothing."""
    username = (
        Borrower.objects.filter(mobile=mobile.strip(), user__isnull=False, user__is_active=True)
        .values_list("user__username", flat=True)
        .first()
    )
    return username or mobile.strip()


def _borrower_by_contact(identifier: str) -> Borrower | None:
    identifier = identifier.strip()
    if not identifier:
        return None
    lookup = Q(email__iexact=identifier) if "@" in identifier else Q(mobile=identifier)
    return Borrower.objects.select_related("user").filter(lookup, user__isnull=False, user__is_active=True).first()


def reset_code_send(*, identifier: str) -> None:
    """Send a 6-digit code to the mobile number or email the borrower typed, if it belongs to a portal account.

    Nothing tells the caller whether it did (the page says the same either way), so the form cannot be used to find
    out who has an account.
    """
    borrower = _borrower_by_contact(identifier)
    if borrower is None:
        return
    channel = PortalResetCode.Channel.EMAIL if "@" in identifier else PortalResetCode.Channel.SMS
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    with transaction.atomic():
        PortalResetCode.objects.filter(borrower=borrower, used_at__isnull=True).update(used_at=now)
        reset = PortalResetCode.objects.create(
            borrower=borrower,
            channel=channel,
            code_hash=_hash(f"{borrower.pk}:{code}"),
            expires_at=now + RESET_CODE_VALID,
        )
        message_queue(
            key=f"portal_reset_code:{reset.pk}",
            channel=channel,
            template="portal_reset_code",
            to_address=borrower.email if channel == PortalResetCode.Channel.EMAIL else borrower.mobile,
            context={"name": borrower.name, "code": code, "minutes": int(RESET_CODE_VALID.total_seconds() // 60)},
            language=borrower.message_language,
            audience=OutboxMessage.Audience.BORROWER,
            recipient=borrower.user,
        )


def reset_code_confirm(*, identifier: str, code: str, password: str) -> User:
    """Set a new password with the code; a wrong code counts, and five wrong ones end the code."""
    invalid = ValidationError({"code": _("The code is not right or has expired. Ask for a new one.")})
    borrower = _borrower_by_contact(identifier)
    if borrower is None:
        raise invalid
    with transaction.atomic():
        reset = (
            PortalResetCode.objects.select_for_update()
            .filter(borrower=borrower, used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-created_at")
            .first()
        )
        if reset is None:
            raise invalid
        if reset.code_hash != _hash(f"{borrower.pk}:{code.strip()}"):
            reset.failed_attempts += 1
            if reset.failed_attempts >= RESET_CODE_MAX_FAILURES:
                reset.used_at = timezone.now()
            reset.save(update_fields=["failed_attempts", "used_at"])
            # Raised after the block, so that the count is committed rather than rolled back with the error.
            failed = True
        else:
            failed = False
            user = borrower.user
            validate_password(password, user)
            reset.used_at = timezone.now()
            reset.save(update_fields=["used_at"])
            user.set_password(password)
            user.save(update_fields=["password"])
    if failed:
        raise invalid
    # A reset ends a lockout from earlier wrong passwords (the person has just proved who they are).
    from axes.utils import reset as axes_reset

    axes_reset(username=user.username)
    return user


@transaction.atomic
def contact_preferences_save(
    *,
    borrower: Borrower,
    by: User,
    language: str,
    sms_reminders: bool,
    email_reminders: bool,
    contact_from_hour: int,
    contact_to_hour: int,
) -> Borrower:
    require_owner(by, borrower.pk)
    errors = {}
    if language not in dict(User.Language.choices):
        errors["language"] = _("Choose a language from the list.")
    if not (0 <= contact_from_hour < contact_to_hour <= 24):
        errors["contact_to_hour"] = _("The end of the time window must be later than its start.")
    if email_reminders and not borrower.email:
        errors["email_reminders"] = _("We have no email address for you; ask your loan officer to add one.")
    if errors:
        raise ValidationError(errors)
    borrower.sms_reminders, borrower.email_reminders = sms_reminders, email_reminders
    borrower.contact_from_hour, borrower.contact_to_hour = contact_from_hour, contact_to_hour
    borrower.save(
        update_fields=["sms_reminders", "email_reminders", "contact_from_hour", "contact_to_hour", "updated_at"]
    )
    if by.preferred_language != language:
        by.preferred_language = language
        by.save(update_fields=["preferred_language"])
    return borrower


# --- materials and the risk disclosure -----------------------------------------------------------------------------
@transaction.atomic
def material_upload_by_borrower(*, material: Material, by: User, upload: UploadedFile) -> Material:
    """The borrower sends a missing or rejected item (same content checks as staff uploads)."""
    application = material.application
    require_owner(by, application.borrower_id)
    application.require_status(UPLOAD_STATUSES)
    current = Material.objects.select_for_update().get(pk=material.pk)
    if current.status not in (Material.Status.MISSING, Material.Status.REJECTED):
        raise TransitionError(_("We already have this document; there is nothing to send."))
    return store_material_file(material=current, by=by, upload=upload)


@transaction.atomic
def disclosure_request(*, application: Application, by: User) -> Application:
    """The officer asks the borrower to read and acknowledge the current risk disclosure on the portal."""
    require(by, "application.create")
    if application.officer_id != by.pk:
        raise PermissionDenied(
            _("Only the assigned officer, %(name)s, may change this application.") % {"name": application.officer}
        )
    application.require_status(DISCLOSURE_STATUSES)
    borrower = application.borrower
    if not borrower.user_id:
        raise TransitionError(_("The borrower has no portal account yet; invite them from the borrower page first."))
    disclosure = application.product.current_disclosure()
    if disclosure is None:
        raise TransitionError(_("This product has no risk disclosure to acknowledge; ask an administrator."))
    if has_current_acknowledgement(application):
        raise TransitionError(_("The borrower has already acknowledged the current risk disclosure."))
    now = timezone.now()
    Application.objects.filter(pk=application.pk).update(disclosure_requested_at=now)
    application.disclosure_requested_at = now
    event = _event(application, kind=ApplicationEvent.Kind.DISCLOSURE, by=by, requested=disclosure.version)
    _send_to_borrower(
        borrower,
        key=f"portal_disclosure:{application.pk}:{event.pk}",
        template="portal_disclosure_requested",
        context={"number": application.number, "link": _link("portal:disclosure", application.number)},
        email_too=False,
    )
    return application


def disclosure_pending(application: Application) -> bool:
    """Whether the borrower has been asked to acknowledge the disclosure and has not yet done so."""
    return (
        application.disclosure_requested_at is not None
        and application.status in DISCLOSURE_STATUSES
        and not has_current_acknowledgement(application)
    )


@transaction.atomic
def disclosure_acknowledge_online(*, application: Application, by: User) -> DisclosureAcknowledgement:
    """The borrower acknowledges the current version on the portal (once per version)."""
    require_owner(by, application.borrower_id)
    application.require_status(DISCLOSURE_STATUSES)
    if application.disclosure_requested_at is None:
        raise TransitionError(_("Your loan officer has not asked you to acknowledge the risk disclosure yet."))
    disclosure = application.product.current_disclosure()
    if disclosure is None:
        raise TransitionError(_("This product has no risk disclosure to acknowledge; ask an administrator."))
    acknowledgement, created = DisclosureAcknowledgement.objects.get_or_create(
        application=application,
        disclosure=disclosure,
        defaults={"method": DisclosureAcknowledgement.Method.PORTAL},
    )
    if created:
        _event(application, kind=ApplicationEvent.Kind.DISCLOSURE, by=by, version=disclosure.version, online=True)
    return acknowledgement
