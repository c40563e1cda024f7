"""A list page's filter field with the markup crispy's Bootstrap 5 pack gives it, built in Python: {% load
filter_fields %} then {% filter_field form.status %}.

Why not `|as_crispy_field`: each field rendered through crispy's templates and Django's widget templates (an include
per option) took about 1 ms; a list's ten filters were half of its page's time, on every view of the busiest pages
(docs/performance.md). Forms people fill in (applications, repayments, reviews) keep crispy, where the time does not
matter and its layouts do. A widget this does not know falls back to crispy, so nothing renders wrongly."""

import html

from django import forms, template
from django.forms.utils import flatatt
from django.forms.widgets import Input
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# crispy's classes per widget, so a page looks the same whichever renders it.
_SELECT_CLASS = "select form-select"
_INPUT_CLASSES = {
    forms.DateInput: "dateinput form-control",
    forms.NumberInput: "numberinput form-control",
    forms.EmailInput: "emailinput form-control",
}


@register.simple_tag
def filter_field(field: forms.BoundField) -> SafeString:
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        return _checkbox(field)
    if isinstance(widget, forms.Select) and not isinstance(widget, forms.RadioSelect):
        control = _select(field)
    elif isinstance(widget, Input) and not isinstance(widget, (forms.FileInput, forms.HiddenInput)):
        control = _input(field)
    else:
        from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field

        return as_crispy_field(field)
    return format_html(
        '<div id="div_{}" class="mb-3"><label for="{}" class="form-label">{}{}</label>{}{}{}</div>',
        field.auto_id,
        field.id_for_label,
        field.label,
        mark_safe('<span class="asteriskField">*</span>') if field.field.required else "",
        control,
        _errors(field),
        _help(field),
    )


def _attrs(field: forms.BoundField, css_class: str) -> dict:
    """The widget's own attributes as Django would render them, with crispy's classes and the error state. A select's
    options are left to `_options`: Django's own building of them (a dict of attributes per option) is skipped."""
    widget = field.field.widget
    arguments = (field.html_name, field.value(), field.build_widget_attrs({}))
    if isinstance(widget, forms.Select):
        context = forms.Widget.get_context(widget, *arguments)
    else:
        context = widget.get_context(*arguments)
    attrs = context["widget"]["attrs"]
    attrs.setdefault("id", field.auto_id)
    classes = [css_class, attrs.get("class", "")]
    if field.errors:
        classes.append("is-invalid")
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field.auto_id}_error"
    attrs["class"] = " ".join(c for c in classes if c)
    return context["widget"] | {"attrs": attrs}


def _select(field: forms.BoundField) -> SafeString:
    if isinstance(field.field, forms.ModelChoiceField):
        field.field.widget.choices = _listed_choices(field.field)
    select = field.field.widget
    widget = _attrs(field, _SELECT_CLASS)
    # The widget's format_value: the chosen values as strings ("" for none).
    chosen = set(widget["value"])
    options = _options(select.choices, chosen, multiple=select.allow_multiple_selected)
    return format_html('<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), mark_safe(options))


def _options(choices, chosen: set[str], *, multiple: bool) -> str:
    """The <option>s (and <optgroup>s) Django's Select renders: a value is selected when chosen, only the first one
    unless the select takes several. Built as plain strings with the standard library's escape, as Django's own
    escape does: Django's option dicts and a format_html per option cost a list's officer filter a millisecond."""
    parts, selected_one = [], False

    def option(value, label) -> str:
        nonlocal selected_one
        value = "" if value is None else str(value)
        selected = value in chosen and (multiple or not selected_one)
        selected_one = selected_one or selected
        return f'<option value="{_escape(value)}"{" selected" if selected else ""}>{_escape(label)}</option>'

    for value, label in choices:
        if isinstance(label, (list, tuple)):
            inner = "".join(option(*item) for item in label)
            parts.append(f'<optgroup label="{_escape(value)}">{inner}</optgroup>')
        else:
            parts.append(option(value, label))
    return "".join(parts)


def _escape(value) -> str:
    """What Django's escape() does to an option's value or label (conditional_escape: a safe label stays as is)."""
    if isinstance(value, SafeString):
        return value
    return html.escape(str(value))


def _listed_choices(field: forms.ModelChoiceField) -> list[tuple]:
    """A model choice field's options read in one plain query. Django's own iterator reads them through
    QuerySet.iterator(), which on PostgreSQL opens a server-side cursor (DECLARE, FETCH, CLOSE: three round trips)
    for a few dozen products or officers. Only the columns the label reads (the model's `label_fields`), not each
    officer's sixteen."""
    options = [("", field.empty_label)] if field.empty_label is not None else []
    queryset = field.queryset
    if label_fields := getattr(queryset.model, "label_fields", None):
        queryset = queryset.only(*label_fields)
    return options + [(field.prepare_value(item), field.label_from_instance(item)) for item in queryset]


def _input(field: forms.BoundField) -> SafeString:
    css_class = next(
        (classes for kind, classes in _INPUT_CLASSES.items() if isinstance(field.field.widget, kind)),
        "textinput form-control",
    )
    widget = _attrs(field, css_class)
    value = format_html(' value="{}"', widget["value"]) if widget["value"] is not None else ""
    return format_html(
        '<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], value, flatatt(widget["attrs"])
    )


def _checkbox(field: forms.BoundField) -> SafeString:
    widget = _attrs(field, "checkboxinput form-check-input")
    return format_html(
        '<div class="mb-3"><div id="div_{}" class="form-check"><input type="checkbox" name="{}"{}>'
        '<label for="{}" class="form-check-label">{}</label>{}{}</div></div>',
        field.auto_id,
        widget["name"],
        flatatt(widget["attrs"]),
        field.id_for_label,
        field.label,
        _errors(field),
        _help(field),
    )


def _errors(field: forms.BoundField) -> SafeString:
    if not field.errors:
        return mark_safe("")
    return format_html(
        '<div id="{}_error" class="invalid-feedback">{}</div>',
        field.auto_id,
        format_html_join(
            "",
            '<p id="error_{}_{}"><strong>{}</strong></p>',
            ((number, field.auto_id, error) for number, error in enumerate(field.errors, start=1)),
        ),
    )


def _help(field: forms.BoundField) -> SafeString:
    if not field.help_text:
        return mark_safe("")
    return format_html('<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text)
