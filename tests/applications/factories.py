"""Building blocks for application tests: a product, a borrower and applications at any stage, made through services."""

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from applications import services
from applications.models import Application, Borrower, MaterialRequirement, Product, RiskDisclosure

# GB 11643 valid resident identity numbers (check digits computed, birth dates 1985-1992).
RESIDENT_IDS = ("110101198503070013", "110105199001011232", "310115198812120032", "440305199206150014")
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf(name: str = "statement.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def make_product(code: str = "CONSUMER", **overrides) -> Product:
    fields = {
        "name_zh": "个人消费贷",
        "name_en": "Personal consumer loan",
        "methods": ["equal_installment", "equal_principal"],
        "min_amount": Decimal("10000.00"),
        "max_amount": Decimal("500000.00"),
        "min_term_months": 6,
        "max_term_months": 36,
        "min_rate": Decimal("4.3500"),
        "max_rate": Decimal("12.0000"),
        "borrower_kinds": ["individual", "sole_proprietor"],
        "min_age": 22,
        "max_age": 65,
        "min_monthly_income": Decimal("5000.00"),
        "max_dti": Decimal("55.00"),
        "sla_initial_review_hours": 24,
        "sla_secondary_review_hours": 48,
    } | overrides
    product = Product.objects.create(code=code, **fields)
    MaterialRequirement.objects.create(
        product=product, code="id_card", name_zh="身份证复印件", name_en="Identity card copy", position=1
    )
    MaterialRequirement.objects.create(
        product=product,
        code="bank_statement",
        name_zh="近6个月银行流水",
        name_en="Bank statements, 6 months",
        position=2,
    )
    RiskDisclosure.objects.create(product=product, version=1, text_zh="贷款有风险。", text_en="Borrowing has risks.")
    return product


def make_borrower(officer, *, number: str = RESIDENT_IDS[0], name: str = "李明", **overrides) -> Borrower:
    fields = {
        "kind": "individual",
        "name": name,
        "birth_date": None,
        "mobile": "13800138000",
        "address": "北京市朝阳区建国路1号",
        "employer": "北京某某科技有限公司",
        "monthly_income": Decimal("30000.00"),
        "monthly_debt_payments": Decimal("2000.00"),
        "years_at_job": 5,
    } | overrides
    if fields["birth_date"] is None:
        from core.identity import birth_date_from_resident_id

        fields["birth_date"] = birth_date_from_resident_id(number)
    borrower, _created = services.borrower_create(
        by=officer, identity_type="resident_id", identity_number=number, **fields
    )
    return borrower


def make_application(officer, *, borrower=None, product=None, amount="100000.00", **overrides) -> Application:
    product = product or Product.objects.first() or make_product()
    borrower = borrower or make_borrower(officer)
    fields = {
        "amount": Decimal(amount),
        "term_months": 12,
        "method": "equal_installment",
        "annual_rate": Decimal("4.3500"),
        "purpose": "装修",
        "channel": "walk_in",
    } | overrides
    return services.application_create(by=officer, borrower=borrower, product=product, **fields)


def complete(application: Application, officer) -> Application:
    """Upload every required material, record the disclosure and the assessment: ready to submit."""
    for material in application.materials.all():
        services.material_upload(material=material, by=officer, upload=pdf(f"{material.pk}.pdf"))
    services.disclosure_acknowledge(application=application, by=officer)
    services.assessment_save(application=application, by=officer, income_stability="stable", credit_flags=[])
    return Application.objects.get(pk=application.pk)


def submitted(officer, **kwargs) -> Application:
    application = complete(make_application(officer, **kwargs), officer)
    services.application_submit(application=application, by=officer)
    return Application.objects.get(pk=application.pk)


def accept_materials(application: Application, reviewer) -> None:
    for material in application.materials.filter(status="uploaded"):
        services.material_check(material=material, by=reviewer, accepted=True)


def in_secondary_review(officer, reviewer, **kwargs) -> Application:
    application = submitted(officer, **kwargs)
    accept_materials(application, reviewer)
    services.application_review_initial(application=application, by=reviewer, decision="pass", comment="资料齐全")
    return Application.objects.get(pk=application.pk)
