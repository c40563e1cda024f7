from django.urls import path

from .views import contracts, loans, repayments, risk

app_name = "postloan"

urlpatterns = [
    path("", loans.loan_list, name="list"),
    path("overdue/", loans.overdue_list, name="overdue"),
    path("confirmations/", contracts.confirmations, name="confirmations"),
    path("classification-approvals/", risk.classification_queue, name="classification_queue"),
    path("restructurings/", risk.restructuring_queue, name="restructuring_queue"),
    # The contract and its disbursement, from an approved application.
    path("contracts/new/<int:application_pk>/", contracts.contract_prepare, name="contract_prepare"),
    path("contracts/<int:pk>/", contracts.contract_detail, name="contract_detail"),
    path("contracts/<int:pk>/confirm/", contracts.contract_confirm, name="contract_confirm"),
    path("contracts/<int:pk>/disbursement/", contracts.disbursement_prepare, name="disbursement_prepare"),
    path("contracts/<int:pk>/disbursement/confirm/", contracts.disbursement_confirm, name="disbursement_confirm"),
    # The loan's page, its schedules and the money on it.
    path("<int:pk>/", loans.loan_detail, name="detail"),
    path("<int:pk>/schedule/print/", loans.schedule_print, name="schedule_print"),
    path("<int:pk>/schedule/<int:version>/", loans.schedule_version, name="schedule_version"),
    path("<int:pk>/repayments/new/", repayments.repayment_post, name="repayment_post"),
    path("<int:pk>/repayments/preview/", repayments.repayment_preview, name="repayment_preview"),
    path("<int:pk>/repayments/<int:repayment_pk>/reverse/", repayments.repayment_reverse, name="repayment_reverse"),
    path("<int:pk>/payoff/", repayments.payoff, name="payoff"),
    path("<int:pk>/payoff/quote/", repayments.payoff_quote, name="payoff_quote"),
    # Manual classification and restructuring.
    path("<int:pk>/classification/propose/", risk.classification_propose, name="classification_propose"),
    path("<int:pk>/classification/<int:proposal_pk>/", risk.classification_decide, name="classification_decide"),
    path("<int:pk>/classification/clear/", risk.classification_clear, name="classification_clear"),
    path("<int:pk>/restructurings/new/", risk.restructuring_request, name="restructuring_request"),
    path("<int:pk>/restructurings/preview/", risk.restructuring_preview, name="restructuring_preview"),
    path("<int:pk>/restructurings/<int:restructuring_pk>/", risk.restructuring_detail, name="restructuring_detail"),
    path(
        "<int:pk>/restructurings/<int:restructuring_pk>/decide/", risk.restructuring_decide, name="restructuring_decide"
    ),
    path(
        "<int:pk>/restructurings/<int:restructuring_pk>/withdraw/",
        risk.restructuring_withdraw,
        name="restructuring_withdraw",
    ),
]
