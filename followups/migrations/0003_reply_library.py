"""The starting reply library (话术库): one reply per inquiry category, editable by administrators afterwards."""

from django.db import migrations

TEMPLATES = [
    (
        "progress-update",
        "progress",
        "申请进度说明",
        "Application progress",
        "{borrower_name}您好，您的申请 {application_number} 目前状态为“{application_status}”。我们会在审查完成后第一时间通知您。"
        "如有疑问，请联系您的客户经理 {officer_name}（{officer_phone}）。",
        "Dear {borrower_name}, your application {application_number} is now “{application_status}”. We will tell you "
        "as soon as the review is finished. If you have any question, please call your loan officer {officer_name} "
        "({officer_phone}).",
    ),
    (
        "repayment-how-to-pay",
        "repayment",
        "还款方式与下一期还款",
        "How to pay and your next payment",
        "{borrower_name}您好，您的贷款 {loan_number} 下一期应还 {next_due_amount}，到期日为 {next_due_date}。"
        "请在到期日前将款项存入您的放款账户，我们将自动扣款；也可以到{branch_name}柜台还款。"
        "如需帮助，请联系客户经理 {officer_name}（{officer_phone}）。",
        "Dear {borrower_name}, the next payment on your loan {loan_number} is {next_due_amount}, due on "
        "{next_due_date}. Please have the amount in the account the loan was paid into before that day and we will "
        "collect it, or pay at the {branch_name} counter. For help, call your loan officer {officer_name} "
        "({officer_phone}).",
    ),
    (
        "product-information",
        "product",
        "产品说明",
        "Product information",
        "{borrower_name}您好，感谢您的咨询。客户经理 {officer_name} 会根据您的情况为您介绍合适的产品和所需材料，"
        "您也可以直接致电 {officer_phone}。",
        "Dear {borrower_name}, thank you for your question. Your loan officer {officer_name} will explain the products "
        "that suit you and the documents they need; you can also call {officer_phone}.",
    ),
    (
        "complaint-received",
        "complaint",
        "投诉受理",
        "Complaint received",
        "{borrower_name}您好，我们已收到您的投诉（编号 {inquiry_number}），{branch_name}负责人正在核实情况，"
        "会尽快与您联系并告知处理结果。给您带来不便，深表歉意。",
        "Dear {borrower_name}, we have received your complaint ({inquiry_number}). The manager of {branch_name} is "
        "looking into it and will contact you soon with the outcome. We are sorry for the trouble.",
    ),
    (
        "general-thanks",
        "",
        "一般答复",
        "General reply",
        "{borrower_name}您好，感谢您的咨询。如还有其他问题，欢迎随时在门户提问或联系客户经理 {officer_name}（{officer_phone}）。",
        "Dear {borrower_name}, thank you for your question. If there is anything else, ask us on the portal at any "
        "time or call your loan officer {officer_name} ({officer_phone}).",
    ),
]


def create_library(apps, schema_editor):
    ReplyTemplate = apps.get_model("followups", "ReplyTemplate")
    for code, category, title_zh, title_en, body_zh, body_en in TEMPLATES:
        ReplyTemplate.objects.get_or_create(
            code=code,
            defaults={
                "category": category,
                "title_zh": title_zh,
                "title_en": title_en,
                "body_zh": body_zh,
                "body_en": body_en,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("followups", "0002_inquiries")]

    operations = [migrations.RunPython(create_library, migrations.RunPython.noop)]
