from django.urls import path

from .views import applications, borrowers, detail, intake, materials, reviews

app_name = "applications"

urlpatterns = [
    # Officer: applications, the intake wizard (borrower → matching → details) and the detail page's actions.
    path("", applications.application_list, name="list"),
    path("new/", borrowers.borrower_pick, name="new"),
    path("borrowers/new/", borrowers.borrower_create, name="borrower_create"),
    path("borrowers/<int:pk>/", borrowers.borrower_detail, name="borrower_detail"),
    path("borrowers/<int:pk>/reveal/", borrowers.identity_reveal, name="identity_reveal"),
    path("borrowers/<int:pk>/invite/", borrowers.borrower_invite, name="borrower_invite"),
    path("borrowers/<int:pk>/match/", applications.product_match, name="product_match"),
    path("borrowers/<int:pk>/apply/<int:product_pk>/", applications.application_create, name="create"),
    path("<int:pk>/", detail.application_detail, name="detail"),
    path("<int:pk>/edit/", applications.application_edit, name="edit"),
    path("<int:pk>/parties/add/", intake.party_add, name="party_add"),
    path("<int:pk>/parties/<int:party_pk>/remove/", intake.party_remove, name="party_remove"),
    path("<int:pk>/collateral/add/", intake.collateral_add, name="collateral_add"),
    path("<int:pk>/collateral/<int:item_pk>/remove/", intake.collateral_remove, name="collateral_remove"),
    path("<int:pk>/disclosure/", intake.disclosure, name="disclosure"),
    path("<int:pk>/disclosure/request/", intake.disclosure_request, name="disclosure_request"),
    path("<int:pk>/assessment/", intake.assessment, name="assessment"),
    path("<int:pk>/submit/", applications.application_submit, name="submit"),
    path("<int:pk>/withdraw/", applications.application_withdraw, name="withdraw"),
    path("<int:pk>/notes/", applications.note_add, name="note_add"),
    path("<int:pk>/reassign/", applications.application_reassign, name="reassign"),
    path("<int:pk>/materials/add/", materials.material_add, name="material_add"),
    path("<int:pk>/materials/<int:material_pk>/upload/", materials.material_upload, name="material_upload"),
    path("<int:pk>/materials/<int:material_pk>/download/", materials.material_download, name="material_download"),
    path("<int:pk>/materials/<int:material_pk>/check/", materials.material_check, name="material_check"),
    # Reviewers and approvers.
    path("review/", reviews.initial_queue, name="review_queue"),
    path("approvals/", reviews.approval_queue, name="approval_queue"),
    path("<int:pk>/review/start/", reviews.review_start, name="review_start"),
    path("<int:pk>/review/initial/", reviews.review_initial, name="review_initial"),
    path("<int:pk>/review/secondary/", reviews.review_secondary, name="review_secondary"),
]
