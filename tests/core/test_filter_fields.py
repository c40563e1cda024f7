"""core.templatetags.filter_fields: a list's filter field built in Python, with crispy's Bootstrap markup."""

import re

from django import forms
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext

from accounts.models import Branch


class BranchFilter(forms.Form):
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "All"), ("open", "Open <now>")])
    branch = forms.ModelChoiceField(label="Branch", required=False, queryset=None, empty_label="Every branch")
    since = forms.DateField(label="Since", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    due_soon = forms.BooleanField(label="Due soon", required=False)
    q = forms.CharField(label="Search", required=False)
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("a", "A")], widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = Branch.objects.order_by("code")


def render(form: forms.Form, name: str) -> str:
    template = engines["django"].from_string("{% load filter_fields %}{% filter_field field %}")
    return template.render({"field": form[name]})


def test_a_select_keeps_the_chosen_option_and_escapes_labels(branches):
    html = render(BranchFilter({"status": "open"}), "status")
    assert '<label for="id_status" class="form-label">Status</label>' in html
    assert '<select name="status" class="select form-select" id="id_status">' in html
    assert '<option value="open" selected>Open &lt;now&gt;</option>' in html
    assert '<option value="">All</option>' in html


def test_a_model_select_reads_its_options_in_one_plain_query(branches):
    chosen = Branch.objects.order_by("code").last()
    form = BranchFilter({"branch": str(chosen.pk)})
    assert form.is_valid()  # as the list views do before rendering: cleaning reads the chosen branch
    with CaptureQueriesContext(connection) as captured:
        html = render(form, "branch")
    # Django's own iterator would open a server-side cursor on PostgreSQL (DECLARE, FETCH, CLOSE).
    assert [query["sql"].split()[0] for query in captured] == ["SELECT"]
    assert '"accounts_branch"."code"' not in captured[0]["sql"].split(" FROM ")[0]  # only what the label reads
    assert re.findall(r'<option value="(\d*)"( selected)?', html) == [("", "")] + [
        (str(branch.pk), " selected" if branch == chosen else "") for branch in Branch.objects.order_by("code")
    ]
    assert ">Every branch</option>" in html


def test_bad_input_is_marked_with_its_message(branches):
    form = BranchFilter({"since": "2026-02-30"})
    assert not form.is_valid()
    html = render(form, "since")
    assert 'class="dateinput form-control is-invalid"' in html and 'aria-invalid="true"' in html
    assert 'value="2026-02-30"' in html
    assert '<div id="id_since_error" class="invalid-feedback"><p id="error_1_id_since"><strong>' in html


def test_a_checkbox_and_a_text_box_keep_what_was_typed(branches):
    form = BranchFilter({"due_soon": "on", "q": 'a"b'})
    checkbox = render(form, "due_soon")
    assert 'class="checkboxinput form-check-input"' in checkbox and " checked" in checkbox
    assert '<label for="id_due_soon" class="form-check-label">Due soon</label>' in checkbox
    assert 'value="a&quot;b"' in render(form, "q")


def test_a_widget_it_does_not_know_goes_to_crispy(branches):
    html = render(BranchFilter(), "kind")
    assert 'type="radio"' in html and "form-check-input" in html


def test_a_branch_is_named_in_the_pages_language(branches):
    from django.utils import translation

    beijing = Branch.objects.get(code="BJ")
    with translation.override("en"):
        assert str(beijing) == "Beijing Chaoyang Branch"
        assert render(BranchFilter(), "branch").count("Beijing Chaoyang Branch") == 1
        assert str(Branch(name="测试支行", name_en="")) == "测试支行"  # no English name: the Chinese one
    with translation.override("zh-hans"):
        assert str(beijing) == "北京朝阳支行"


def test_options_match_what_django_renders_groups_included():
    choices = [("", "Any"), ("Bank & trust", [("b1", "Beijing <1>"), ("b2", "Shanghai")]), ("b1", "Again")]

    class Grouped(forms.Form):
        place = forms.ChoiceField(required=False, choices=choices)

    form = Grouped({"place": "b1"})
    ours = render(form, "place")
    django_own = str(form["place"])
    options = re.compile(r"<(?:option|optgroup)[^>]*>[^<]*")
    assert options.findall(ours) == [tag.replace('="selected"', "").strip() for tag in options.findall(django_own)]
    # Only the first option of a chosen value is selected, as in Django's select.
    assert ours.count(" selected") == 1 and '<optgroup label="Bank &amp; trust">' in ours
