from django.urls import path

from .views import inquiries, questionnaire, records, review, warnings, worklist

app_name = "followups"

urlpatterns = [
    path("inquiries/", inquiries.inquiry_inbox, name="inquiries"),
    path("inquiries/<int:pk>/", inquiries.inquiry_detail, name="inquiry"),
    path("inquiries/<int:pk>/reassign/", inquiries.inquiry_reassign_view, name="inquiry_reassign"),
    path("warnings/", warnings.warning_list, name="warnings"),
    path("warnings/<int:pk>/", warnings.warning_detail, name="warning"),
    path("warnings/<int:pk>/<slug:action>/", warnings.warning_act, name="warning_act"),
    path("reviews/", review.review_queue, name="review_queue"),
    path("reviews/<int:pk>/", review.review_detail, name="review"),
    path("questionnaire/<str:token>/", questionnaire.questionnaire_answer, name="questionnaire_answer"),
    path(
        "applications/<int:pk>/verification-call/",
        review.application_verification_call,
        name="application_verification_call",
    ),
    path("today/", worklist.today, name="today"),
    path("team/", worklist.team, name="team"),
    path("<int:pk>/", records.record, name="record"),
    path("<int:pk>/quick-attempt/", worklist.attempt_quick, name="attempt_quick"),
    path("<int:pk>/attempt/", records.attempt, name="attempt"),
    path("<int:pk>/reassign/", worklist.reassign, name="reassign"),
    path("<int:pk>/photos/", records.photo_add, name="photo_add"),
    path("<int:pk>/photos/<int:photo_pk>/", records.photo_download, name="photo_download"),
    path("<int:pk>/questionnaire/", records.questionnaire_send, name="questionnaire_send"),
    path("<int:pk>/amend/", records.amend, name="amend"),
]
