"""Pre-loan and in-review operations. Every rule of who may do what, and when, is enforced here, not in views.

Each service is keyword-only and atomic; a refused operation raises PermissionDenied (403), TransitionError (the state
no longer allows it; a message for the user) or ValidationError (bad input; messages per field), and changes nothing.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import AuditEvent, User
from accounts.permissions import can, has_role, in_scope, require, sees_all_branches
from accounts.roles import Role
from accounts.services import audit_record
from core.dates import add_months, local_today
from core.identity import validate_passport, validate_resident_id, validate_uscc
from core.models import next_document_number
from core.money import format_yuan, rate_number, round_money, to_decimal
from notifications.models import OutboxMessage
from notifications.services import message_queue

from . import scoring
from .matching import BorrowerProfile, LoanRequest, ProductTerms, match_product
from .models import (
    APPROVAL_VALID_DAYS,
    Application,
    ApplicationEvent,
    ApplicationStatus,
    BlockListEntry,
    Borrower,
    Collateral,
    CreditAssessment,
    DisclosureAcknowledgement,
    IdentityType,
    Material,
    Party,
    Product,
    RejectionReason,
    Review,
    TransitionError,
    identity_lookup_hash,
)
from .uploads import check_upload

S = ApplicationStatus


# --- access helpers ---------------------------------------------------------------------------------------------
def _require_in_scope(user: User, application: Application) -> None:
    if not in_scope(user, application):
        raise PermissionDenied(_("This application belongs to another branch."))


def _require_assigned_officer(user: User, application: Application) -> None:
    """Only the officer the application is assigned to may change it (DESIGN.md §1)."""
    require(user, "application.create")
    if application.officer_id != user.pk:
        raise PermissionDenied(
            _("Only the assigned officer, %(name)s, may change this application.") % {"name": application.officer}
        )


def _require_editable(application: Application) -> None:
    if not application.is_editable:
        raise TransitionError(
            _("The application can be changed only as a draft or after it was returned; it is now “%(status)s”.")
            % {"status": application.get_status_display()}
        )


def _has_reviewed(user: User, application: Application, stage: str | None = None) -> bool:
    reviews = Review.objects.filter(application=application, reviewer=user)
    return reviews.filter(stage=stage).exists() if stage else reviews.exists()


def _require_checker(user: User, application: Application) -> None:
    """Maker-checker (双人复核): whoever took the application in never reviews or approves it."""
    if user.pk in (application.created_by_id, application.officer_id):
        raise PermissionDenied(_("You took this application in; another colleague must review it."))


def _require_not_secondary_reviewer(user: User, application: Application) -> None:
    """Maker-checker across rounds: who made the secondary review never makes the initial one (or takes it)."""
    if _has_reviewed(user, application, Review.Stage.SECONDARY):
        raise PermissionDenied(_("You made the secondary review of this application; another reviewer must do this."))


def _event(application: Application, *, kind: str, by: User | None, note: str = "", **data) -> ApplicationEvent:
    return ApplicationEvent.objects.create(application=application, kind=kind, actor=by, note=note, data=data)


# --- borrower messages ------------------------------------------------------------------------------------------
def _notify_borrower(application: Application, template: str, event: ApplicationEvent, **context) -> None:
    """Queue an SMS to the borrower in the same transaction as the change it reports (DESIGN.md §6)."""
    borrower = application.borrower
    language = borrower.message_language
    message_queue(
        key=f"application:{application.pk}:{template}:{event.pk}",
        channel=OutboxMessage.Channel.SMS,
        template=template,
        to_address=borrower.mobile,
        context={"number": application.number, "name": borrower.name, **context},
        language=language,
        audience=OutboxMessage.Audience.BORROWER,
        recipient=borrower.user,
    )


def _notify_staff(user: User, template: str, key: str, **context) -> None:
    if not user.email:
        return
    message_queue(
        key=key,
        channel=OutboxMessage.Channel.EMAIL,
        template=template,
        to_address=user.email,
        context={"name": str(user), **context},
        language=user.preferred_language,
        audience=OutboxMessage.Audience.STAFF,
        recipient=user,
    )


# --- borrowers --------------------------------------------------------------------------------------------------
IDENTITY_VALIDATORS = {
    IdentityType.RESIDENT_ID: validate_resident_id,
    IdentityType.PASSPORT: validate_passport,
    IdentityType.USCC: validate_uscc,
}


def _normalize_identity(number: str) -> str:
    # As the validators do: people type spaces (also full-width ones) and a lower-case x.
    return "".join(str(number or "").split()).upper()


def _clean_identity(identity_type: str, number: str) -> str:
    """The validated, normalised number: duplicate detection by keyed hash only works on one spelling of it."""
    validator = IDENTITY_VALIDATORS.get(identity_type)
    if validator is None:
        raise ValidationError({"identity_type": _("Choose a known identity type.")})
    try:
        return validator(number)
    except ValidationError as exc:
        raise ValidationError({"identity_number": exc.messages}) from None


def borrower_find(*, identity_type: str, identity_number: str) -> Borrower | None:
    """The borrower with exactly this identity, found by keyed hash (nothing is decrypted)."""
    number = _normalize_identity(identity_number)
    return Borrower.objects.filter(
        identity_type=identity_type, identity_hash=identity_lookup_hash(identity_type, number)
    ).first()


@transaction.atomic
def borrower_create(*, by: User, identity_type: str, identity_number: str, **fields) -> tuple[Borrower, bool]:
    """Create a borrower in the officer's branch, or return the one who already has this identity (created=False)."""
    require(by, "borrower.create")
    return _borrower_save(
        by=by, branch=by.branch, identity_type=identity_type, identity_number=identity_number, **fields
    )


def _borrower_save(
    *, by: User, branch, identity_type: str, identity_number: str, bulk: bool = False, **fields
) -> tuple[Borrower, bool]:
    """The one way a borrower row is written (encrypted identity, keyed hash, masked copy), or the existing one.

    `bulk` (an import of thousands of rows) skips the queries `full_clean` makes to probe the foreign keys and check
    constraints, which the database enforces anyway; every field's own validation still runs."""
    identity_number = _clean_identity(identity_type, identity_number)
    existing = borrower_find(identity_type=identity_type, identity_number=identity_number)
    if existing is not None:
        return existing, False
    borrower = Borrower(branch=branch, created_by=by, **fields)
    borrower.set_identity(identity_type, identity_number)
    if bulk:
        borrower.full_clean(
            exclude=["identity_hash", "identity_masked", "branch", "created_by"], validate_constraints=False
        )
    else:
        borrower.full_clean(exclude=["identity_hash", "identity_masked"])
    try:
        with transaction.atomic():
            borrower.save()
    except IntegrityError:
        # Two officers entered the same person at the same moment: the other one won.
        existing = borrower_find(identity_type=identity_type, identity_number=identity_number)
        if existing is None:
            raise
        return existing, False
    return borrower, True


def require_import_branch(user: User, branch) -> None:
    """A bulk import writes only into the importer's branch; head office imports into any branch."""
    if not sees_all_branches(user) and branch.pk != user.branch_id:
        raise PermissionDenied(_("You may import only into your own branch."))


@transaction.atomic
def borrower_import(*, by: User, branch, identity_type: str, identity_number: str, **fields) -> tuple[Borrower, bool]:
    """A borrower migrated from a spreadsheet into `branch`, saved exactly as `borrower_create` saves one; the one
    who already has this identity is returned untouched (created=False), so importing a file twice adds nothing."""
    require(by, "book.import")
    require_import_branch(by, branch)
    return _borrower_save(
        by=by, branch=branch, identity_type=identity_type, identity_number=identity_number, bulk=True, **fields
    )


def is_blocklisted(borrower: Borrower) -> bool:
    return BlockListEntry.objects.filter(
        identity_type=borrower.identity_type, identity_hash=borrower.identity_hash
    ).exists()


def identity_reveal(*, borrower: Borrower, by: User, ip_address: str | None = None) -> str:
    """The full identity number for a role allowed to see it; every reveal is written to the audit log."""
    if not can(by, "identity.reveal", borrower):
        raise PermissionDenied(_("Your role may not see full identity numbers."))
    audit_record(
        actor=by,
        action=AuditEvent.Action.REVEAL_IDENTITY,
        obj=borrower,
        detail={"identity_masked": borrower.identity_masked},
        ip_address=ip_address,
    )
    return borrower.identity_number


# --- products and matching --------------------------------------------------------------------------------------
def product_terms(product: Product) -> ProductTerms:
    return ProductTerms(
        code=product.code,
        name=product.name,
        methods=tuple(product.methods),
        min_amount=product.min_amount,
        max_amount=product.max_amount,
        min_term_months=product.min_term_months,
        max_term_months=product.max_term_months,
        min_rate=product.min_rate,
        max_rate=product.max_rate,
        borrower_kinds=tuple(product.borrower_kinds),
        min_age=product.min_age,
        max_age=product.max_age,
        min_monthly_income=product.min_monthly_income,
        max_dti=product.max_dti,
    )


def borrower_profile(borrower: Borrower) -> BorrowerProfile:
    return BorrowerProfile(
        kind=borrower.kind,
        birth_date=borrower.birth_date,
        monthly_income=borrower.monthly_income,
        monthly_debt_payments=borrower.monthly_debt_payments,
    )


def product_range_problems(*, product: Product, amount: Decimal, term_months: int, method: str, rate) -> dict:
    """What in the requested terms lies outside the product's ranges and methods, by field ("amount", "term_months",
    "method", "annual_rate"; empty when nothing): the one rule for new applications and migrated loans."""
    errors = {}
    if not product.min_amount <= amount <= product.max_amount:
        errors["amount"] = _("The amount must be between %(min)s and %(max)s for this product.") % {
            "min": format_yuan(product.min_amount),
            "max": format_yuan(product.max_amount),
        }
    if not product.min_term_months <= term_months <= product.max_term_months:
        errors["term_months"] = _("The term must be between %(min)s and %(max)s months for this product.") % {
            "min": product.min_term_months,
            "max": product.max_term_months,
        }
    if method not in product.methods:
        errors["method"] = _("This product does not offer that repayment method.")
    if not product.min_rate <= rate <= product.max_rate:
        errors["annual_rate"] = _("The annual rate must be between %(min)s%% and %(max)s%% for this product.") % {
            "min": rate_number(product.min_rate),
            "max": rate_number(product.max_rate),
        }
    return errors


def _check_request_against_product(*, product: Product, amount: Decimal, term_months: int, method: str, rate):
    errors = {}
    if not product.is_active:
        errors["product"] = _("This product is no longer offered.")
    errors |= product_range_problems(product=product, amount=amount, term_months=term_months, method=method, rate=rate)
    if errors:
        raise ValidationError(errors)


# --- applications -----------------------------------------------------------------------------------------------
@transaction.atomic
def application_create(
    *,
    by: User,
    borrower: Borrower,
    product: Product,
    amount,
    term_months: int,
    method: str,
    annual_rate,
    purpose: str,
    channel: str,
) -> Application:
    """Open a draft application for a borrower, with the product's materials checklist."""
    require(by, "application.create")
    if by.branch_id is None:
        raise PermissionDenied(_("You belong to no branch, so you cannot take applications in."))
    amount, annual_rate = round_money(amount), to_decimal(annual_rate)
    if borrower.kind not in product.borrower_kinds:
        raise ValidationError({"product": _("This product is not offered to this type of borrower.")})
    _check_request_against_product(
        product=product, amount=amount, term_months=term_months, method=method, rate=annual_rate
    )
    year = local_today().year
    application = Application.objects.create(
        number=next_document_number("LA", year),
        borrower=borrower,
        product=product,
        amount=amount,
        term_months=term_months,
        method=method,
        annual_rate=annual_rate,
        purpose=purpose,
        channel=channel,
        branch_id=by.branch_id,
        officer=by,
        created_by=by,
    )
    Material.objects.bulk_create(
        Material(
            application=application,
            requirement=item,
            name=item.name_zh,
            name_en=item.name_en,
            is_required=item.is_required,
        )
        for item in product.material_requirements.all()
    )
    _event(application, kind=ApplicationEvent.Kind.STATUS, by=by, created=True)
    ApplicationEvent.objects.filter(application=application).update(to_status=S.DRAFT)
    return application


@transaction.atomic
def application_import(
    *,
    by: User,
    borrower: Borrower,
    product: Product,
    branch,
    officer: User,
    amount,
    term_months: int,
    method: str,
    annual_rate,
    purpose: str = "",
    note: str,
    **data,
) -> Application:
    """The application behind a loan migrated from another system, created directly as disbursed: its review
    happened there. One note on the timeline says so; no status change is recorded (the pipeline's funnel, decisions
    and stage times count only LoanTrack's own reviews), no borrower message is sent."""
    require(by, "book.import")
    require_import_branch(by, branch)
    amount, annual_rate = round_money(amount), to_decimal(annual_rate)
    application = Application.objects.create(
        number=next_document_number("LA", local_today().year),
        borrower=borrower,
        product=product,
        amount=amount,
        term_months=term_months,
        method=method,
        annual_rate=annual_rate,
        purpose=purpose,
        branch=branch,
        officer=officer,
        created_by=by,
        status=S.DISBURSED,
        approved_amount=amount,
        approved_rate=annual_rate,
        approved_term_months=term_months,
    )
    _event(application, kind=ApplicationEvent.Kind.NOTE, by=by, note=note, imported=True, **data)
    return application


@transaction.atomic
def application_update(*, application: Application, by: User, **fields) -> Application:
    """Change the requested terms of a draft or returned application (the assigned officer only)."""
    _require_assigned_officer(by, application)
    _require_editable(application)
    allowed = {"amount", "term_months", "method", "annual_rate", "purpose", "channel"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    values = {name: getattr(application, name) for name in allowed} | fields
    values["amount"], values["annual_rate"] = round_money(values["amount"]), to_decimal(values["annual_rate"])
    _check_request_against_product(
        product=application.product,
        amount=values["amount"],
        term_months=values["term_months"],
        method=values["method"],
        rate=values["annual_rate"],
    )
    updated = Application.objects.filter(pk=application.pk, status=application.status).update(
        **values, updated_at=timezone.now()
    )
    if not updated:
        raise TransitionError(_("Someone else has just changed this application. Nothing was saved."))
    for name, value in values.items():
        setattr(application, name, value)
    _event(
        application, kind=ApplicationEvent.Kind.NOTE, by=by, note=_("Requested terms changed."), changed=sorted(fields)
    )
    return application


@transaction.atomic
def party_add(
    *, application: Application, by: User, role: str, name: str, mobile: str, relationship: str = "", address: str = ""
) -> Party:
    _require_assigned_officer(by, application)
    _require_editable(application)
    party = Party(
        application=application, role=role, name=name, mobile=mobile, relationship=relationship, address=address
    )
    party.full_clean()
    party.save()
    return party


@transaction.atomic
def party_remove(*, party: Party, by: User) -> None:
    _require_assigned_officer(by, party.application)
    _require_editable(party.application)
    party.delete()


@transaction.atomic
def collateral_add(
    *, application: Application, by: User, kind: str, description: str, estimated_value, custodian: Party | None = None
) -> Collateral:
    _require_assigned_officer(by, application)
    _require_editable(application)
    if custodian is not None and custodian.application_id != application.pk:
        raise ValidationError({"custodian": _("The custodian must be a party of this application.")})
    item = Collateral(
        application=application,
        kind=kind,
        description=description,
        estimated_value=round_money(estimated_value),
        custodian=custodian,
    )
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def collateral_remove(*, item: Collateral, by: User) -> None:
    _require_assigned_officer(by, item.application)
    _require_editable(item.application)
    item.delete()


# --- materials --------------------------------------------------------------------------------------------------
@transaction.atomic
def material_add(*, application: Application, by: User, name: str, is_required: bool = False) -> Material:
    """An extra item beyond the product's checklist (e.g. a lease contract the officer asked for)."""
    _require_assigned_officer(by, application)
    _require_editable(application)
    return Material.objects.create(application=application, name=name, is_required=is_required)


@transaction.atomic
def material_upload(*, material: Material, by: User, upload: UploadedFile) -> Material:
    """Store a file for a checklist item after checking its real type and size; the item becomes `uploaded`."""
    application = material.application
    _require_assigned_officer(by, application)
    _require_editable(application)
    return store_material_file(material=material, by=by, upload=upload)


def store_material_file(*, material: Material, by: User, upload: UploadedFile) -> Material:
    """Check the file's real type and size, store it under a random name and mark the item `uploaded`; the caller
    has checked who may upload and when (the officer here, the borrower on the portal)."""
    application = material.application
    content_type = check_upload(upload)
    locked = Material.objects.select_for_update().get(pk=material.pk)
    old_file = locked.file.name if locked.file else ""
    locked.content_type = content_type
    locked.original_name = upload.name[:255]
    locked.size = upload.size
    locked.file.save(upload.name, upload, save=False)
    locked.status = Material.Status.UPLOADED
    locked.uploaded_by, locked.uploaded_at = by, timezone.now()
    locked.reviewed_by, locked.reviewed_at, locked.rejection_reason = None, None, ""
    locked.save()
    _event(
        application,
        kind=ApplicationEvent.Kind.MATERIAL,
        by=by,
        material=locked.name,
        status=locked.status,
        replaced=bool(old_file),
    )
    return locked


@transaction.atomic
def material_check(*, material: Material, by: User, accepted: bool, reason: str = "") -> Material:
    """A reviewer accepts a file or rejects it with a reason; a rejection tells the borrower what is missing."""
    application = material.application
    require(by, "material.check")
    _require_in_scope(by, application)
    _require_checker(by, application)
    if application.status not in (S.SUBMITTED, S.INITIAL_REVIEW, S.SECONDARY_REVIEW):
        raise TransitionError(_("Materials are checked while the application is in review."))
    if not accepted and not reason.strip():
        raise ValidationError({"reason": _("Say why the material is rejected, so the borrower can fix it.")})
    updated = Material.objects.filter(pk=material.pk, status=Material.Status.UPLOADED).update(
        status=Material.Status.ACCEPTED if accepted else Material.Status.REJECTED,
        reviewed_by=by,
        reviewed_at=timezone.now(),
        rejection_reason="" if accepted else reason.strip(),
    )
    if not updated:
        raise TransitionError(_("Only an uploaded material that nobody has checked yet can be accepted or rejected."))
    material.refresh_from_db()
    event = _event(
        application,
        kind=ApplicationEvent.Kind.MATERIAL,
        by=by,
        material=material.name,
        status=material.status,
        note=material.rejection_reason,
    )
    if not accepted:
        _notify_borrower(
            application,
            "application_materials_missing",
            event,
            material=material.name_in(application.borrower.message_language),
            reason=material.rejection_reason,
        )
    return material


def missing_materials(application: Application) -> list[Material]:
    """The required items still missing or rejected, in checklist order."""
    return [item for item in application.materials.all() if item.is_outstanding]


# --- risk disclosure and assessment -----------------------------------------------------------------------------
@transaction.atomic
def disclosure_acknowledge(*, application: Application, by: User) -> DisclosureAcknowledgement:
    """Record that the borrower read the product's current risk disclosure, witnessed by the officer."""
    _require_assigned_officer(by, application)
    _require_editable(application)
    disclosure = application.product.current_disclosure()
    if disclosure is None:
        raise TransitionError(_("This product has no risk disclosure to acknowledge; ask an administrator."))
    acknowledgement, created = DisclosureAcknowledgement.objects.get_or_create(
        application=application,
        disclosure=disclosure,
        defaults={"method": DisclosureAcknowledgement.Method.IN_PERSON, "witnessed_by": by},
    )
    if created:
        _event(application, kind=ApplicationEvent.Kind.DISCLOSURE, by=by, version=disclosure.version)
    return acknowledgement


def has_current_acknowledgement(application: Application) -> bool:
    disclosure = application.product.current_disclosure()
    # All of them rather than a filtered EXISTS: an application has one or two, and the page prefetches them.
    return disclosure is not None and any(
        acknowledgement.disclosure_id == disclosure.pk for acknowledgement in application.acknowledgements.all()
    )


def _age_on(birth_date, day) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def scoring_input(application: Application, *, income_stability: str, credit_flags) -> scoring.ScoringInput:
    borrower, product = application.borrower, application.product
    today = local_today()
    match = match_product(
        profile=borrower_profile(borrower),
        request=LoanRequest(amount=application.amount, term_months=application.term_months, method=application.method),
        product=product_terms(product),
        today=today,
    )
    age = _age_on(borrower.birth_date, today) if borrower.birth_date and borrower.is_person else None
    age_at_maturity = None
    if age is not None:
        age_at_maturity = _age_on(borrower.birth_date, add_months(today, application.term_months))
    collateral_value = sum((item.estimated_value for item in application.collateral.all()), Decimal("0.00"))
    return scoring.ScoringInput(
        borrower_kind=borrower.kind,
        age=age,
        income_stability=income_stability,
        years_at_job=borrower.years_at_job,
        dti=match.dti,
        credit_flags=frozenset(credit_flags),
        collateral_value=collateral_value,
        amount=application.amount,
        has_guarantor=application.parties.filter(role=Party.Role.GUARANTOR).exists(),
        product_min_age=product.min_age,
        product_max_age=product.max_age,
        age_at_maturity=age_at_maturity,
        product_max_dti=product.max_dti,
        blocklisted=is_blocklisted(borrower),
    )


@transaction.atomic
def assessment_save(*, application: Application, by: User, income_stability: str, credit_flags) -> CreditAssessment:
    """Score the application with the transparent scorecard and keep the result as the reviewers will see it."""
    _require_assigned_officer(by, application)
    _require_editable(application)
    unknown = set(credit_flags) - set(scoring.CREDIT_FLAGS)
    if unknown:
        raise ValidationError({"credit_flags": _("Unknown credit report findings: %s") % ", ".join(sorted(unknown))})
    inputs = scoring_input(application, income_stability=income_stability, credit_flags=credit_flags)
    # Reasons are kept in every interface language, so a reviewer reads them in theirs, not in the officer's.
    cards = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            cards[language] = scoring.score(inputs)
    card = cards[settings.LANGUAGE_CODE]
    assessment, _created = CreditAssessment.objects.update_or_create(
        application=application,
        defaults={
            "income_stability": income_stability,
            "credit_flags": sorted(credit_flags),
            "total": card.total,
            "grade": card.grade,
            "factors": [
                {
                    "code": f.code,
                    "points": f.points,
                    "max_points": f.max_points,
                    "label": {lang: str(c.factors[i].label) for lang, c in cards.items()},
                    "reason": {lang: str(c.factors[i].reason) for lang, c in cards.items()},
                }
                for i, f in enumerate(card.factors)
            ],
            "hard_stops": [
                {lang: str(c.hard_stops[i]) for lang, c in cards.items()} for i in range(len(card.hard_stops))
            ],
            "assessed_by": by,
            "assessed_at": timezone.now(),
        },
    )
    _event(
        application,
        kind=ApplicationEvent.Kind.ASSESSMENT,
        by=by,
        grade=card.grade,
        total=card.total,
        hard_stops=len(card.hard_stops),
    )
    return assessment


# --- the review workflow ----------------------------------------------------------------------------------------
def submission_blockers(application: Application) -> list[str]:
    """Everything that still prevents submission, in words; empty when it can be submitted."""
    blockers = [
        _("Missing material: %(name)s") % {"name": item.display_name} for item in missing_materials(application)
    ]
    if not has_current_acknowledgement(application):
        blockers.append(_("The borrower has not acknowledged the current risk disclosure."))
    if not hasattr(application, "assessment"):
        blockers.append(_("The credit assessment has not been done."))
    product = application.product
    if product.requires_guarantor and not application.parties.filter(role=Party.Role.GUARANTOR).exists():
        blockers.append(_("This product requires a guarantor."))
    if product.requires_collateral and not application.collateral.exists():
        blockers.append(_("This product requires collateral."))
    return blockers


@transaction.atomic
def application_submit(*, application: Application, by: User) -> Application:
    """Send a complete application to initial review (again, after a return); tell the borrower it was received."""
    _require_assigned_officer(by, application)
    allowed = (S.DRAFT, S.RETURNED)
    application.require_status(allowed)
    blockers = submission_blockers(application)
    if blockers:
        raise ValidationError(blockers)
    now = timezone.now()
    event = application.transition(
        to=S.SUBMITTED,
        by=by,
        allowed_from=allowed,
        submitted_at=now,
        sla_due_at=now + timedelta(hours=application.product.sla_initial_review_hours),
    )
    _notify_borrower(application, "application_received", event)
    return application


@transaction.atomic
def application_start_review(*, application: Application, by: User) -> Application:
    """A reviewer takes a submitted application from the queue; the borrower hears it is in review."""
    require(by, "review.initial")
    _require_in_scope(by, application)
    _require_checker(by, application)
    _require_not_secondary_reviewer(by, application)
    event = application.transition(to=S.INITIAL_REVIEW, by=by, allowed_from=(S.SUBMITTED,), initial_reviewer_id=by.pk)
    _notify_borrower(application, "application_in_review", event)
    return application


def _clean_rejection(decision: str, rejection_codes, comment: str) -> list[str]:
    if not comment.strip():
        raise ValidationError({"comment": _("Write a comment: it is part of the record.")})
    if decision != Review.Decision.REJECT:
        return []
    codes = list(rejection_codes or [])
    if not codes or set(codes) - set(RejectionReason.values):
        raise ValidationError({"rejection_codes": _("Choose at least one reason for the rejection.")})
    return codes


@transaction.atomic
def application_review_initial(
    *,
    application: Application,
    by: User,
    decision: str,
    comment: str,
    checklist: dict | None = None,
    rejection_codes=None,
) -> Review:
    """Initial review (初审): pass to secondary review, return to the officer, or reject."""
    require(by, "review.initial")
    _require_in_scope(by, application)
    _require_checker(by, application)
    _require_not_secondary_reviewer(by, application)
    if decision not in (Review.Decision.PASS, Review.Decision.RETURN, Review.Decision.REJECT):
        raise ValidationError({"decision": _("Choose pass, return or reject.")})
    allowed = (S.SUBMITTED, S.INITIAL_REVIEW)
    application.require_status(allowed)
    codes = _clean_rejection(decision, rejection_codes, comment)
    if decision == Review.Decision.PASS:
        if application.materials.filter(status=Material.Status.UPLOADED, is_required=True).exists():
            raise ValidationError(_("Accept or reject every uploaded material before passing the application."))
        if missing_materials(application):
            raise ValidationError(_("Required materials are missing or rejected: return the application instead."))
        now = timezone.now()
        event = application.transition(
            to=S.SECONDARY_REVIEW,
            by=by,
            allowed_from=allowed,
            note=comment,
            initial_reviewer_id=by.pk,
            sla_due_at=now + timedelta(hours=application.product.sla_secondary_review_hours),
        )
    else:
        event = _return_or_reject(application, by=by, decision=decision, allowed=allowed, comment=comment, codes=codes)
    return Review.objects.create(
        application=application,
        stage=Review.Stage.INITIAL,
        reviewer=by,
        decision=decision,
        checklist=checklist or {},
        comment=comment,
        rejection_codes=codes,
        created_at=event.created_at,
    )


def _return_or_reject(
    application: Application, *, by: User, decision: str, allowed: tuple, comment: str, codes: list
) -> ApplicationEvent:
    """The two decisions both review stages share: back to the officer with reasons, or rejected with codes."""
    if decision == Review.Decision.RETURN:
        event = application.transition(to=S.RETURNED, by=by, allowed_from=allowed, note=comment, sla_due_at=None)
        _notify_borrower(application, "application_returned", event, reason=comment)
        return event
    event = application.transition(
        to=S.REJECTED,
        by=by,
        allowed_from=allowed,
        note=comment,
        sla_due_at=None,
        rejection_codes=codes,
        rejection_text=comment,
    )
    _notify_borrower(application, "application_rejected", event)
    return event


def may_approve_amount(user: User, amount: Decimal) -> bool:
    """Approvers approve up to their own limit; managers take what is above every approver's limit."""
    return has_role(user, Role.MANAGER) or (has_role(user, Role.APPROVER) and amount <= user.approval_limit)


@transaction.atomic
def application_review_secondary(
    *,
    application: Application,
    by: User,
    decision: str,
    comment: str,
    approved_amount=None,
    approved_rate=None,
    approved_term_months: int | None = None,
    conditions: str = "",
    rejection_codes=None,
) -> Review:
    """Secondary review (复核): approve within the approver's limit (never above the request), return, or reject."""
    require(by, "review.secondary")
    _require_in_scope(by, application)
    _require_checker(by, application)
    if _has_reviewed(by, application, Review.Stage.INITIAL):
        raise PermissionDenied(_("You made the initial review of this application; another colleague must approve it."))
    if decision not in (Review.Decision.APPROVE, Review.Decision.RETURN, Review.Decision.REJECT):
        raise ValidationError({"decision": _("Choose approve, return or reject.")})
    allowed = (S.SECONDARY_REVIEW,)
    application.require_status(allowed)
    codes = _clean_rejection(decision, rejection_codes, comment)
    terms = {}
    if decision == Review.Decision.APPROVE:
        terms = _clean_approval(application, approved_amount, approved_rate, approved_term_months)
        hard_stops = CreditAssessment.objects.filter(application=application).values_list("hard_stops", flat=True)
        if any(hard_stops) and not has_role(by, Role.MANAGER):
            raise PermissionDenied(
                _("The credit assessment has hard stops; only a manager may approve this application.")
            )
        if not may_approve_amount(by, terms["approved_amount"]):
            raise PermissionDenied(
                _("%(amount)s is above your approval limit of %(limit)s; a manager must approve it.")
                % {"amount": format_yuan(terms["approved_amount"]), "limit": format_yuan(by.approval_limit)}
            )
        now = timezone.now()
        event = application.transition(
            to=S.APPROVED,
            by=by,
            allowed_from=allowed,
            note=comment,
            sla_due_at=None,
            conditions=conditions,
            approved_by_id=by.pk,
            approved_at=now,
            expires_at=now + timedelta(days=APPROVAL_VALID_DAYS),
            **terms,
        )
        _notify_borrower(application, "application_approved", event, amount=format_yuan(terms["approved_amount"]))
    else:
        event = _return_or_reject(application, by=by, decision=decision, allowed=allowed, comment=comment, codes=codes)
    return Review.objects.create(
        application=application,
        stage=Review.Stage.SECONDARY,
        reviewer=by,
        decision=decision,
        comment=comment,
        rejection_codes=codes,
        conditions=conditions,
        created_at=event.created_at,
        **terms,
    )


def _clean_approval(application: Application, amount, rate, term_months) -> dict:
    product = application.product
    amount = round_money(amount if amount not in (None, "") else application.amount)
    rate = to_decimal(rate if rate not in (None, "") else application.annual_rate)
    term_months = int(term_months or application.term_months)
    errors = {}
    if amount > application.amount:
        errors["approved_amount"] = _(
            "The approved amount may be lower than the %(requested)s requested, never higher."
        ) % {"requested": format_yuan(application.amount)}
    elif amount < product.min_amount:
        errors["approved_amount"] = _("The approved amount is below this product's minimum of %(min)s.") % {
            "min": format_yuan(product.min_amount)
        }
    if not product.min_rate <= rate <= product.max_rate:
        errors["approved_rate"] = _("The rate must be between %(min)s%% and %(max)s%% for this product.") % {
            "min": rate_number(product.min_rate),
            "max": rate_number(product.max_rate),
        }
    if not product.min_term_months <= term_months <= product.max_term_months:
        errors["approved_term_months"] = _("The term must be between %(min)s and %(max)s months.") % {
            "min": product.min_term_months,
            "max": product.max_term_months,
        }
    if errors:
        raise ValidationError(errors)
    return {"approved_amount": amount, "approved_rate": rate, "approved_term_months": term_months}


@transaction.atomic
def application_withdraw(*, application: Application, by: User, reason: str) -> Application:
    """The borrower changed their mind: the assigned officer withdraws the application before approval."""
    _require_assigned_officer(by, application)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the application is withdrawn.")})
    application.transition(
        to=S.WITHDRAWN,
        by=by,
        allowed_from=(S.DRAFT, S.SUBMITTED, S.INITIAL_REVIEW, S.SECONDARY_REVIEW, S.RETURNED),
        note=reason,
        sla_due_at=None,
    )
    return application


@transaction.atomic
def application_reassign(*, application: Application, by: User, officer: User) -> Application:
    """A manager hands an application to another officer of the same branch, who is told by email."""
    require(by, "application.reassign")
    _require_in_scope(by, application)
    if not has_role(officer, Role.OFFICER) or officer.branch_id != application.branch_id:
        raise ValidationError({"officer": _("Choose an active loan officer of the application's branch.")})
    if officer.pk == application.officer_id:
        return application
    previous = application.officer
    updated = Application.objects.filter(pk=application.pk, officer_id=previous.pk).update(
        officer=officer, updated_at=timezone.now()
    )
    if not updated:
        raise TransitionError(_("Someone else has just reassigned this application. Nothing was saved."))
    application.officer = officer
    event = _event(
        application, kind=ApplicationEvent.Kind.ASSIGNMENT, by=by, previous=str(previous), officer=str(officer)
    )
    _notify_staff(
        officer,
        "application_assigned",
        f"application:{application.pk}:assigned:{event.pk}",
        number=application.number,
        borrower=application.borrower.name,
    )
    return application


@transaction.atomic
def application_add_note(*, application: Application, by: User, text: str) -> ApplicationEvent:
    require(by, "application.view")
    _require_in_scope(by, application)
    if not text.strip():
        raise ValidationError({"text": _("Write the note first.")})
    return _event(application, kind=ApplicationEvent.Kind.NOTE, by=by, note=text.strip())


def applications_expire(*, now=None) -> int:
    """Daily sweep: approvals not contracted within 30 days expire. Idempotent; returns how many expired."""
    now = now or timezone.now()
    expired = 0
    due = Application.objects.filter(status=S.APPROVED, expires_at__lt=now).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            application = Application.objects.select_related("borrower").get(pk=pk)
            try:
                application.transition(
                    to=S.EXPIRED,
                    by=None,
                    allowed_from=(S.APPROVED,),
                    note=_("Not contracted within %(days)s days.") % {"days": APPROVAL_VALID_DAYS},
                )
            except TransitionError:
                continue  # contracted (or expired by a parallel sweep) in the meantime
            expired += 1
    return expired
